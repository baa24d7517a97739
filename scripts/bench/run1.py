#!/usr/bin/python3
"""run1.py OUT CMD... -- runs CMD once (stdout discarded, stderr to OUT.err) and writes
"peak_rss_kib cpu_seconds" to OUT. os.wait4 gives the child's rusage in microseconds,
where /usr/bin/time prints CPU time in 10 ms steps: too coarse for a 0.08 s run."""
import os, subprocess, sys

out, cmd = sys.argv[1], sys.argv[2:]
with open(os.devnull, "wb") as null, open(out + ".err", "wb") as err:
    p = subprocess.Popen(cmd, stdout=null, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
with open(out, "w") as f:
    f.write("%d %.6f\n" % (ru.ru_maxrss, ru.ru_utime + ru.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))
