/*
 * cmd_check.c — `onnxdiff check MODEL --inputs ...`: interface assertions for CI, exit 0
 * when all hold, 1 when one failed.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"inputs", required_argument, NULL, 'i'}, {"outputs", required_argument, NULL, 'o'},
		{"absent", required_argument, NULL, 'a'}, {"present", required_argument, NULL, 'p'},
		{"no-op", required_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'}, {0}};
	const char *usage = "check [--inputs A,B] [--outputs Y] [--absent NAME,...] [--present NAME,...] [--no-op OP,...] [-q] MODEL";
	struct od_check_spec spec = {0};
	const char **lists[5] = {0};
	bool quiet = false, any = false;
	int c, rc = CLI_TROUBLE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		const char **v = NULL;
		size_t n = 0;
		if (c == 'q') {
			quiet = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: onnxdiff %s\n\n"
			       "Asserts facts about MODEL's main graph; exit 0 when all hold, 1 when one\n"
			       "fails (each failure on a line), 2 on trouble. Lists are comma-separated.\n\n"
			       "  --inputs A,B       the graph inputs are exactly these\n"
			       "  --outputs Y        the graph outputs are exactly these\n"
			       "  --absent NAME,...  none of these is a graph input\n"
			       "  --present NAME,... each of these is a graph input\n"
			       "  --no-op OP,...     no node is of these op types\n"
			       "  -q, --quiet        print nothing; the exit status tells\n"
			       "  -h, --help         this text\n", usage);
			rc = 0;
			goto out;
		}
		if (c == '?' || !strchr("ioapn", c)) {
			cli_bad_option("check", argv);
			goto out;
		}
		if (!(v = cli_split(optarg, &n))) {
			cli_error("out of memory");
			goto out;
		}
		any = true;
		int slot = (int)(strchr("ioapn", c) - "ioapn");
		free(lists[slot]);
		lists[slot] = v;
		switch (c) {
		case 'i': spec.inputs = v; spec.n_inputs = n; spec.check_inputs = true; break;
		case 'o': spec.outputs = v; spec.n_outputs = n; spec.check_outputs = true; break;
		case 'a': spec.absent = v; spec.n_absent = n; break;
		case 'p': spec.present = v; spec.n_present = n; break;
		case 'n': spec.no_ops = v; spec.n_no_ops = n; break;
		}
	}
	if (optind + 1 != argc || !any) {
		if (!any && optind + 1 == argc)
			cli_error("nothing to check: give --inputs, --outputs, --absent, --present or --no-op");
		else
			cli_usage(usage);
		goto out;
	}
	struct od_model *m;
	if (cli_load(argv[optind], &m))
		goto out;
	int failed = od_check(m, &spec, cli_write_file, quiet ? (void *)stderr : (void *)stdout);
	od_model_free(m);
	fflush(stdout);
	rc = failed < 0 ? CLI_TROUBLE : failed ? CLI_DIFFERENT : CLI_SAME;
out:
	for (int i = 0; i < 5; i++)
		free(lists[i]);
	return rc;
}
