/*
 * hashfloor.c — the least a content hash of every payload byte can cost: reads each file
 * with pread() into one 128 KiB buffer (onnxdiff's chunk) and hashes every byte with XXH3,
 * on one thread. scripts/bench.sh measures it beside cat, so issue 15's CPU goals can be
 * read against what reading and hashing alone take on the machine.
 *
 *   hashfloor FILE...     prints one XXH3 hash (of all files) in hex
 */
#define XXH_STATIC_LINKING_ONLY
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

int main(int argc, char **argv)
{
	enum { CHUNK = 128 << 10 };
	static unsigned char buf[CHUNK];
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			perror(argv[i]);
			return 2;
		}
		ssize_t n;
		for (off_t off = 0; (n = pread(fd, buf, CHUNK, off)) > 0; off += n)
			XXH3_64bits_update(&st, buf, (size_t)n);
		close(fd);
		if (n < 0) {
			perror(argv[i]);
			return 2;
		}
	}
	printf("%016llx\n", (unsigned long long)XXH3_64bits_digest(&st));
	return 0;
}
