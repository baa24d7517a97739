/*
 * main.c — onnxdiff's command line: turns argv into library calls and an exit status
 * (0 same / 1 different or an assertion failed / 2 trouble, as diff(1)).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_TROUBLE;
}

int cli_usage(const char *usage)
{
	fprintf(stderr, "usage: onnxdiff %s\n", usage);
	return CLI_TROUBLE;
}

int cli_write_file(void *priv, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, priv) == len ? 0 : OD_EIO;
}

int cli_load(const char *path, struct od_model **out)
{
	struct od_ctx ctx = {0};
	if (od_model_load(path, NULL, out, &ctx))
		return cli_error("%s", ctx.msg);
	return 0;
}

const char **cli_split(char *list, size_t *n)
{
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	const char **v = calloc(cap, sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		if (*tok)
			v[(*n)++] = tok;
	return v;
}

int cli_color(const char *mode, FILE *f)
{
	if (mode && !strcmp(mode, "always"))
		return 1;
	if (mode && !strcmp(mode, "never"))
		return 0;
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return 0;
	return isatty(fileno(f));
}

/* ---- show ------------------------------------------------------------------------------ */

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *usage = "show [--json] MODEL";
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return c == 'h' ? (printf("usage: onnxdiff %s\n", usage), 0) : cli_usage(usage);
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

/* ---- check ----------------------------------------------------------------------------- */

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
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		const char **v = NULL;
		size_t n = 0;
		if (c == 'q') {
			quiet = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: onnxdiff %s\n", usage);
			rc = 0;
			goto out;
		}
		if (!strchr("ioapn", c)) {
			cli_usage(usage);
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

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} commands[] = {
#define CLI_ENTRY(name, summary) {#name, summary, cmd_##name},
	CLI_COMMANDS(CLI_ENTRY)
#undef CLI_ENTRY
};

static int help(FILE *f)
{
	fprintf(f, "usage: onnxdiff A.onnx B.onnx          compare two exports node by node\n"
	           "       onnxdiff <command> [options] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'onnxdiff <command> --help' tells more; 'man onnxdiff' tells all.\n"
	           "exit status: 0 same, 1 different (or a check failed), 2 trouble\n");
	return f == stdout ? 0 : CLI_TROUBLE;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return help(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return help(stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("onnxdiff %s\n", PACKAGE_VERSION);
		return 0;
	}
	const struct command *cmd = find_command(argv[1]);
	if (cmd)
		return cmd->run(argc - 1, argv + 1);
	const struct command *diff = find_command("diff");
	if (diff)   /* `onnxdiff A B` is `onnxdiff diff A B` */
		return diff->run(argc, argv);
	return cli_error("unknown command '%s' (see 'onnxdiff --help')", argv[1]);
}
