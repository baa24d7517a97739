/*
 * diff_ops.c — what the diff knows about operators, kept as data: attribute defaults (so
 * that `Gemm` without `alpha` equals `Gemm alpha=1.0`) and which ops are commutative.
 * Both tables are sorted and looked up with bsearch; add rows in order.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "diff_impl.h"

/* ai.onnx attribute defaults from the operator schemas. since/until: opset range where
 * the default holds (0: open). Rows sorted by op, then attribute name. */
struct opdef {
	const char *op, *name;
	short since, until;
	char type;              /* 'i' int, 'f' float, 's' string, 'I' ints */
	int64_t i;
	double f;
	const char *s;
	const int64_t *ints;
	size_t n;
};

#define I(op, name, v)            {op, name, 0, 0, 'i', v, 0, NULL, NULL, 0}
#define IR(op, name, s, u, v)     {op, name, s, u, 'i', v, 0, NULL, NULL, 0}
#define F(op, name, v)            {op, name, 0, 0, 'f', 0, v, NULL, NULL, 0}
#define S(op, name, v)            {op, name, 0, 0, 's', 0, 0, v, NULL, 0}
#define SR(op, name, s, u, v)     {op, name, s, u, 's', 0, 0, v, NULL, 0}

static const int64_t mvn_axes[] = {0, 2, 3};

static const struct opdef defaults[] = {
	I("ArgMax", "axis", 0), I("ArgMax", "keepdims", 1), I("ArgMax", "select_last_index", 0),
	I("ArgMin", "axis", 0), I("ArgMin", "keepdims", 1), I("ArgMin", "select_last_index", 0),
	S("AveragePool", "auto_pad", "NOTSET"), I("AveragePool", "ceil_mode", 0),
	I("AveragePool", "count_include_pad", 0),
	F("BatchNormalization", "epsilon", 1e-5), F("BatchNormalization", "momentum", 0.9),
	I("BatchNormalization", "training_mode", 0),
	IR("Cast", "saturate", 19, 0, 1),
	IR("CastLike", "saturate", 19, 0, 1),
	F("Celu", "alpha", 1.0),
	S("Conv", "auto_pad", "NOTSET"), I("Conv", "group", 1),
	S("ConvTranspose", "auto_pad", "NOTSET"), I("ConvTranspose", "group", 1),
	I("CumSum", "exclusive", 0), I("CumSum", "reverse", 0),
	I("DFT", "axis", 1), I("DFT", "inverse", 0), I("DFT", "onesided", 0),
	S("DepthToSpace", "mode", "DCR"),
	IR("DequantizeLinear", "axis", 13, 0, 1),
	{"Dropout", "ratio", 0, 11, 'f', 0, 0.5, NULL, NULL, 0},
	F("Elu", "alpha", 1.0),
	I("EyeLike", "k", 0),
	I("Flatten", "axis", 1),
	I("GRU", "layout", 0), I("GRU", "linear_before_reset", 0),
	S("GRU", "direction", "forward"),
	I("Gather", "axis", 0),
	I("GatherElements", "axis", 0),
	I("GatherND", "batch_dims", 0),
	S("Gelu", "approximate", "none"),
	F("Gemm", "alpha", 1.0), F("Gemm", "beta", 1.0), I("Gemm", "transA", 0),
	I("Gemm", "transB", 0),
	I("GlobalLpPool", "p", 2),
	I("GridSample", "align_corners", 0), SR("GridSample", "mode", 16, 19, "bilinear"),
	SR("GridSample", "mode", 20, 0, "linear"), S("GridSample", "padding_mode", "zeros"),
	F("HardSigmoid", "alpha", 0.2), F("HardSigmoid", "beta", 0.5),
	IR("Hardmax", "axis", 0, 12, 1), IR("Hardmax", "axis", 13, 0, -1),
	F("InstanceNormalization", "epsilon", 1e-5),
	I("IsInf", "detect_negative", 1), I("IsInf", "detect_positive", 1),
	F("LRN", "alpha", 0.0001), F("LRN", "beta", 0.75), F("LRN", "bias", 1.0),
	S("LSTM", "direction", "forward"), I("LSTM", "input_forget", 0), I("LSTM", "layout", 0),
	I("LayerNormalization", "axis", -1), F("LayerNormalization", "epsilon", 1e-5),
	I("LayerNormalization", "stash_type", 1),
	F("LeakyRelu", "alpha", 0.01),
	IR("LogSoftmax", "axis", 0, 12, 1), IR("LogSoftmax", "axis", 13, 0, -1),
	I("LpNormalization", "axis", -1), I("LpNormalization", "p", 2),
	S("LpPool", "auto_pad", "NOTSET"), I("LpPool", "p", 2),
	S("MaxPool", "auto_pad", "NOTSET"), I("MaxPool", "ceil_mode", 0),
	I("MaxPool", "storage_order", 0),
	{"MeanVarianceNormalization", "axes", 0, 0, 'I', 0, 0, NULL, mvn_axes, 3},
	I("Mod", "fmod", 0),
	S("NegativeLogLikelihoodLoss", "reduction", "mean"),
	I("NonMaxSuppression", "center_point_box", 0),
	I("OneHot", "axis", -1),
	S("Pad", "mode", "constant"),
	IR("QuantizeLinear", "axis", 13, 0, 1), IR("QuantizeLinear", "saturate", 19, 0, 1),
	S("RNN", "direction", "forward"), I("RNN", "layout", 0),
	I("ReduceL1", "keepdims", 1), IR("ReduceL1", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceL2", "keepdims", 1), IR("ReduceL2", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceLogSum", "keepdims", 1), IR("ReduceLogSum", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceLogSumExp", "keepdims", 1),
	IR("ReduceLogSumExp", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceMax", "keepdims", 1), IR("ReduceMax", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceMean", "keepdims", 1), IR("ReduceMean", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceMin", "keepdims", 1), IR("ReduceMin", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceProd", "keepdims", 1), IR("ReduceProd", "noop_with_empty_axes", 18, 0, 0),
	I("ReduceSum", "keepdims", 1), IR("ReduceSum", "noop_with_empty_axes", 13, 0, 0),
	I("ReduceSumSquare", "keepdims", 1),
	IR("ReduceSumSquare", "noop_with_empty_axes", 18, 0, 0),
	IR("Resize", "antialias", 18, 0, 0),
	SR("Resize", "coordinate_transformation_mode", 11, 0, "half_pixel"),
	{"Resize", "cubic_coeff_a", 11, 0, 'f', 0, -0.75, NULL, NULL, 0},
	IR("Resize", "exclude_outside", 11, 0, 0),
	{"Resize", "extrapolation_value", 11, 0, 'f', 0, 0.0, NULL, NULL, 0},
	SR("Resize", "keep_aspect_ratio_policy", 18, 0, "stretch"),
	S("Resize", "mode", "nearest"),
	SR("Resize", "nearest_mode", 11, 0, "round_prefer_floor"),
	I("ReverseSequence", "batch_axis", 1), I("ReverseSequence", "time_axis", 0),
	SR("RoiAlign", "coordinate_transformation_mode", 16, 0, "half_pixel"),
	S("RoiAlign", "mode", "avg"), I("RoiAlign", "output_height", 1),
	I("RoiAlign", "output_width", 1), I("RoiAlign", "sampling_ratio", 0),
	F("RoiAlign", "spatial_scale", 1.0),
	I("ScatterElements", "axis", 0), SR("ScatterElements", "reduction", 16, 0, "none"),
	SR("ScatterND", "reduction", 16, 0, "none"),
	F("Selu", "alpha", 1.67326319217681884765625),
	F("Selu", "gamma", 1.05070102214813232421875),
	I("Shape", "start", 0),
	F("Shrink", "bias", 0.0), F("Shrink", "lambd", 0.5),
	IR("Softmax", "axis", 0, 12, 1), IR("Softmax", "axis", 13, 0, -1),
	S("SoftmaxCrossEntropyLoss", "reduction", "mean"),
	I("Split", "axis", 0),
	F("ThresholdedRelu", "alpha", 1.0),
	I("TopK", "axis", -1), IR("TopK", "largest", 11, 0, 1), IR("TopK", "sorted", 11, 0, 1),
	I("Trilu", "upper", 1),
	I("Unique", "sorted", 1),
	S("Upsample", "mode", "nearest"),
};

/* Commutative (and associative in their inputs) ai.onnx ops: inputs compare as a set. */
static const char *const commutative[] = {
	"Add", "And", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Equal", "Max", "Mean", "Min",
	"Mul", "Or", "Sum", "Xor",
};

static int cmp_op(const void *key, const void *elem)
{
	return strcmp(key, ((const struct opdef *)elem)->op);
}

static int cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool diff_op_commutative(const char *domain, const char *op)
{
	return od_domain_is_onnx(domain) &&
	       bsearch(op, commutative, sizeof commutative / sizeof *commutative,
	               sizeof *commutative, cmp_str);
}

/* The rows of op: [*first, *end). */
static bool rows_of(const char *op, size_t *first, size_t *end)
{
	const size_t n = sizeof defaults / sizeof *defaults;
	const struct opdef *hit = bsearch(op, defaults, n, sizeof *defaults, cmp_op);
	if (!hit)
		return false;
	size_t i = (size_t)(hit - defaults), j = i;
	while (i > 0 && !strcmp(defaults[i - 1].op, op))
		i--;
	while (j < n && !strcmp(defaults[j].op, op))
		j++;
	*first = i;
	*end = j;
	return true;
}

static bool row_applies(const struct opdef *r, int64_t opset)
{
	if (opset <= 0)         /* no ai.onnx import: take the newest rule */
		return r->until == 0;
	return (r->since == 0 || opset >= r->since) && (r->until == 0 || opset <= r->until);
}

static void row_attr(const struct opdef *r, struct od_attr *a)
{
	memset(a, 0, sizeof *a);
	a->name = r->name;
	switch (r->type) {
	case 'i': a->type = OD_ATTR_INT; a->i = r->i; break;
	case 'f': a->type = OD_ATTR_FLOAT; a->f = (float)r->f; break;
	case 's':
		a->type = OD_ATTR_STRING;
		a->s.data = (const uint8_t *)r->s;
		a->s.len = strlen(r->s);
		break;
	default:
		a->type = OD_ATTR_INTS;
		a->ints = (int64_t *)r->ints;
		a->n = r->n;
		break;
	}
}

uint32_t diff_op_rows(const struct od_node *n)
{
	size_t i, end;
	if (!od_domain_is_onnx(n->domain) || !rows_of(n->op_type, &i, &end))
		return 0;
	return (uint32_t)(i << 8 | (end - i));
}

void diff_op_defaults_rows(uint32_t rows, const struct od_node *n, int64_t opset,
                           void (*fn)(const struct od_attr *def, void *priv), void *priv)
{
	struct od_attr tmp;
	for (size_t i = rows >> 8, end = (rows >> 8) + (rows & 0xff); i < end; i++)
		if (row_applies(&defaults[i], opset) && !od_node_attr(n, defaults[i].name)) {
			row_attr(&defaults[i], &tmp);
			fn(&tmp, priv);
		}
}

void diff_op_defaults(const struct od_node *n, int64_t opset,
                      void (*fn)(const struct od_attr *def, void *priv), void *priv)
{
	size_t i, end;
	struct od_attr tmp;
	if (!od_domain_is_onnx(n->domain) || !rows_of(n->op_type, &i, &end))
		return;
	for (; i < end; i++)
		if (row_applies(&defaults[i], opset) && !od_node_attr(n, defaults[i].name)) {
			row_attr(&defaults[i], &tmp);
			fn(&tmp, priv);
		}
}

const struct od_attr *diff_op_default(const struct od_node *n, int64_t opset,
                                      const char *name, struct od_attr *tmp)
{
	size_t i, end;
	if (!od_domain_is_onnx(n->domain) || !rows_of(n->op_type, &i, &end))
		return NULL;
	for (; i < end; i++)
		if (!strcmp(defaults[i].name, name) && row_applies(&defaults[i], opset)) {
			row_attr(&defaults[i], tmp);
			return tmp;
		}
	return NULL;
}
