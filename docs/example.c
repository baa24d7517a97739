/*
 * example.c — the C API in a dozen lines: are two exports the same model?
 *
 *   cc example.c $(pkg-config --cflags --libs onnxdiff) -o same
 *   ./same with_mask.onnx wrapper.onnx; echo $?
 */
#include <stdio.h>
#include <onnxdiff/od.h>
#include <onnxdiff/diff.h>

static int to_stdout(void *priv, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, priv) == len ? 0 : OD_EIO;
}

int main(int argc, char **argv)
{
	struct od_ctx ctx = {0};
	struct od_model *a = NULL, *b = NULL;
	struct od_diff *d = NULL;
	if (argc != 3 || od_model_load(argv[1], NULL, &a, &ctx) ||
	    od_model_load(argv[2], NULL, &b, &ctx) || od_diff(a, b, NULL, &d, &ctx)) {
		fprintf(stderr, "error: %s\n", argc != 3 ? "usage: same A.onnx B.onnx" : ctx.msg);
		return 2;
	}
	int same = od_diff_is_same(d);
	od_diff_emit_text(d, NULL, to_stdout, stdout);
	od_diff_free(d);
	od_model_free(b);
	od_model_free(a);
	return same ? 0 : 1;
}
