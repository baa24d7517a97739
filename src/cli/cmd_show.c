/*
 * cmd_show.c — `onnxdiff show MODEL [--json]`: what a model holds, as text or JSON.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *usage = "show [--json] MODEL";
	bool json = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h')
			return printf("usage: onnxdiff %s\n\n"
			              "Lists MODEL: inputs and outputs with types, initializers with content\n"
			              "hashes, an operator histogram, subgraphs and functions.\n\n"
			              "  --json      the same as JSON\n"
			              "  -h, --help  this text\n", usage), CLI_SAME;
		else
			return cli_bad_option("show", argv);
	}
	if (optind + 1 != argc)
		return cli_usage(usage);
	struct od_model *m;
	if (cli_load(argv[optind], &m))
		return CLI_TROUBLE;
	int rc = json ? od_show_json(m, cli_write_file, stdout) : od_show_text(m, cli_write_file, stdout);
	od_model_free(m);
	if (rc || fflush(stdout))
		return cli_error("cannot write output: %s", rc == OD_ENOMEM ? "out of memory" : strerror(errno));
	return CLI_SAME;
}
