/*
 * cmd_textconv.c — `onnxdiff textconv MODEL`: the canonical text dump for git's textconv
 * driver (od_diff_textconv).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "diff.h"

int cmd_textconv(int argc, char **argv)
{
	struct od_model *m = NULL;
	struct od_ctx ctx = {0};
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: onnxdiff textconv MODEL\n\n"
		       "Prints a canonical text dump of MODEL for git's textconv driver:\n"
		       "  git config diff.onnx.textconv 'onnxdiff textconv'\n"
		       "  echo '*.onnx diff=onnx' >> .gitattributes\n");
		return CLI_SAME;
	}
	if (argc == 2 && argv[1][0] == '-' && argv[1][1])
		return cli_error("unknown option '%s' (see 'onnxdiff textconv --help')", argv[1]);
	if (argc != 2)
		return cli_usage("textconv MODEL");
	int rc = cli_load(argv[1], &m);
	if (rc)
		return rc;
	if (od_diff_textconv(m, cli_write_file, stdout, &ctx))
		rc = cli_error("%s", ctx.msg);
	else if (fflush(stdout))
		rc = cli_error("cannot write the dump: %s", strerror(errno));
	od_model_free(m);
	return rc;
}
