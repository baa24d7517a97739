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
#include "shape.h"

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"values", no_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'}, {0}};
	const char *usage = "show [--json] [--values] MODEL";
	bool json = false, values = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'v')
			values = true;
		else if (c == 'h')
			return printf("usage: onnxdiff %s\n\n"
			              "Lists MODEL: inputs and outputs with types, initializers with content\n"
			              "hashes, an operator histogram, subgraphs and functions. Shapes the file\n"
			              "declares that contradict the inferred ones are warnings on stderr.\n\n"
			              "  --values    also every value of the main graph with its inferred dtype\n"
			              "              and shape (a dim is a size, a symbol, or ? when unknown)\n"
			              "  --json      the same as JSON (with --values, a \"values\" array)\n"
			              "  -h, --help  this text\n", usage), CLI_SAME;
		else
			return cli_bad_option("show", argv);
	}
	if (optind + 1 != argc)
		return cli_usage(usage);
	struct od_model *m;
	if (cli_load(argv[optind], &m))
		return CLI_TROUBLE;
	cli_trace("load");
	/* shapes the file declares are checked against the inferred ones: warnings on stderr */
	struct od_shapes *s = NULL;
	struct od_ctx ctx = {0};
	if (od_shapes_infer(m, &s, &ctx)) {
		od_model_free(m);
		return cli_error("%s", ctx.msg);
	}
	cli_trace("infer");
	for (size_t i = 0; i < s->n_warnings; i++)
		cli_warn("%s", s->warnings[i]);
	const struct od_shapes *shown = values ? s : NULL;
	int rc = json ? od_show_values_json(m, shown, cli_write_file, stdout) :
	         od_show_values_text(m, shown, cli_write_file, stdout);
	cli_trace("show");  /* hashes every payload, prints */
	od_shapes_free(s);
	od_model_free(m);
	if (rc || fflush(stdout))
		return cli_error("cannot write output: %s", rc == OD_ENOMEM ? "out of memory" : strerror(errno));
	return CLI_SAME;
}
