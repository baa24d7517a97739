/*
 * roundtrip.c — load -> save -> load for each model given: the reloaded model must
 * serialise to the same bytes as the first load, and nothing may be left beside the
 * output but the output. Prints a summary; exit 1 when any model fails.
 * usage: roundtrip TMPDIR MODEL...
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"

static int roundtrip(const char *tmpdir, const char *path, size_t *identical)
{
	struct od_ctx ctx = {0};
	struct od_model *a = NULL, *b = NULL;
	void *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;
	char out[4096];
	int rc = 1;
	snprintf(out, sizeof out, "%s/roundtrip.onnx", tmpdir);
	if (od_model_load(path, NULL, &a, &ctx) || od_model_save(a, out, NULL, &ctx) ||
	    od_model_load(out, NULL, &b, &ctx) || od_model_serialize(a, &ba, &la, &ctx) ||
	    od_model_serialize(b, &bb, &lb, &ctx)) {
		printf("not ok %s: %s\n", path, ctx.msg);
		goto out;
	}
	if (la != lb || memcmp(ba, bb, la)) {
		printf("not ok %s: reloaded model serialises differently (%zu vs %zu bytes)\n", path, la, lb);
		goto out;
	}
	FILE *f = fopen(path, "rb");
	if (f) {
		char *orig = malloc(la + 1);
		*identical += orig && fread(orig, 1, la + 1, f) == la && !memcmp(orig, ba, la);
		free(orig);
		fclose(f);
	}
	rc = 0;
out:
	free(ba);
	free(bb);
	od_model_free(a);
	od_model_free(b);
	remove(out);
	return rc;
}

int main(int argc, char **argv)
{
	size_t failed = 0, identical = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: roundtrip TMPDIR MODEL...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		failed += roundtrip(argv[1], argv[i], &identical) != 0;
	printf("roundtrip: %d models, %zu failed, %zu byte-identical to the input\n",
	       argc - 2, failed, identical);
	return failed ? 1 : 0;
}
