/*
 * eval.c — the operator table and the one entry point that looks a node up in it, checks
 * what every kernel would otherwise check (input and output counts, payload sizes, the
 * dtype claim) and calls the kernel. The kernels themselves live in eval_*.c by family.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "eval_internal.h"

#define K EV_OPSET_KNOWN
#define V EV_VARIADIC
#define BOOL_ OD_DT(OD_BOOL)
/* What the BLAS kernels compute in float32. */
#define EV_F32 (OD_DT(OD_FLOAT) | OD_DT(OD_FLOAT16) | OD_DT(OD_BFLOAT16))
#define MM_INTS (OD_DT(OD_INT32) | OD_DT(OD_INT64) | OD_DT(OD_UINT32) | OD_DT(OD_UINT64))
#define Q8 (OD_DT(OD_INT8) | OD_DT(OD_UINT8))

/*
 * The table, sorted by (domain, op, since) with strcmp order; ranges of one op never
 * overlap. A row claims: at opsets since..until, for inputs[typed] of a dtype in the mask
 * (typed -1: the kernel checks the dtypes it produces), with min_in..max_in inputs and at
 * most n_out outputs, the kernel computes what the ONNX reference does.
 *
 *  domain op               since until dtypes                   typed in max out kernel
 */
static const struct ev_entry table[] = {
	{ "", "Abs",              6,  K, EV_NUM,                       0, 1, 1, 1, ev_k_abs },
	{ "", "Acos",             7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_acos },
	{ "", "Acosh",            9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_acosh },
	{ "", "Add",              7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_add },
	{ "", "AffineGrid",      20,  K, EV_FLOATB,                    0, 2, 2, 1, ev_k_affinegrid },
	{ "", "And",              7,  K, BOOL_,                        0, 2, 2, 1, ev_k_and },
	{ "", "ArgMax",           1,  K, EV_NUM,                       0, 1, 1, 1, ev_k_argmax },
	{ "", "ArgMin",           1,  K, EV_NUM,                       0, 1, 1, 1, ev_k_argmin },
	{ "", "Asin",             7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_asin },
	{ "", "Asinh",            9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_asinh },
	{ "", "Atan",             7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_atan },
	{ "", "Atanh",            9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_atanh },
	{ "", "Attention",       23,  K, EV_F32,                       0, 3, 7, 4, ev_k_attention },
	{ "", "AveragePool",      1,  K, EV_F32,                       0, 1, 1, 1, ev_k_averagepool },
	{ "", "BatchNormalization", 7, K, EV_FLOATB,                   0, 5, 5, 1, ev_k_batchnorm },
	{ "", "BitShift",        11,  K, EV_UINTS,                     0, 2, 2, 1, ev_k_bitshift },
	{ "", "BitwiseAnd",      18,  K, EV_INTS,                      0, 2, 2, 1, ev_k_bitwise_and },
	{ "", "BitwiseNot",      18,  K, EV_INTS,                      0, 1, 1, 1, ev_k_bitwise_not },
	{ "", "BitwiseOr",       18,  K, EV_INTS,                      0, 2, 2, 1, ev_k_bitwise_or },
	{ "", "BitwiseXor",      18,  K, EV_INTS,                      0, 2, 2, 1, ev_k_bitwise_xor },
	{ "", "BlackmanWindow",  17,  K, EV_IDX,                       0, 1, 1, 1, ev_k_blackmanwindow },
	{ "", "Cast",             6,  K, EV_NUMB | OD_DT(OD_BFLOAT16),  0, 1, 1, 1, ev_k_cast },
	{ "", "CastLike",        15,  K, EV_NUMB | OD_DT(OD_BFLOAT16),  0, 2, 2, 1, ev_k_castlike },
	{ "", "Ceil",             6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_ceil },
	{ "", "Celu",            12,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_celu },
	{ "", "CenterCropPad",   18,  K, EV_FIXED,                     0, 2, 2, 1, ev_k_centercroppad },
	{ "", "Clip",             6, 10, EV_FLOATS,                    0, 1, 1, 1, ev_k_clip6 },
	{ "", "Clip",            11,  K, EV_NUM,                       0, 1, 3, 1, ev_k_clip },
	{ "", "Col2Im",          18,  K, EV_NUM | OD_DT(OD_BFLOAT16),  0, 3, 3, 1, ev_k_col2im },
	{ "", "Compress",         9,  K, EV_ANY,                       0, 2, 2, 1, ev_k_compress },
	{ "", "Concat",           4,  K, EV_ANY,                       0, 1, V, 1, ev_k_concat },
	{ "", "Constant",         1,  K, EV_ANY,                      -1, 0, 0, 1, ev_k_constant },
	{ "", "ConstantOfShape",  9,  K, EV_NUMB,                     -1, 1, 1, 1, ev_k_constantofshape },
	{ "", "Conv",             1,  K, EV_F32,                       0, 2, 3, 1, ev_k_conv },
	{ "", "ConvInteger",     10,  K, Q8,                           0, 2, 4, 1, ev_k_convint },
	{ "", "ConvTranspose",    1,  K, EV_F32,                       0, 2, 3, 1, ev_k_convtranspose },
	{ "", "Cos",              7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_cos },
	{ "", "Cosh",             9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_cosh },
	{ "", "CumProd",         26,  K, EV_NUM,                       0, 2, 2, 1, ev_k_cumprod },
	{ "", "CumSum",          11,  K, EV_NUM,                       0, 2, 2, 1, ev_k_cumsum },
	{ "", "DFT",             17, 19, EV_FLOATB,                    0, 1, 2, 1, ev_k_dft17 },
	{ "", "DFT",             20,  K, EV_FLOATB,                    0, 1, 3, 1, ev_k_dft },
	{ "", "DepthToSpace",     1,  K, EV_FIXED,                     0, 1, 1, 1, ev_k_depthtospace },
	{ "", "DequantizeLinear", 10, K, EV_INTS,                      0, 2, 3, 1, ev_k_dequantize },
	{ "", "Det",             11,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_det },
	{ "", "Div",              7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_div },
	{ "", "Dropout",         10,  K, EV_FLOATS,                    0, 1, 3, 2, ev_k_dropout },
	{ "", "DynamicQuantizeLinear", 11, K, OD_DT(OD_FLOAT),         0, 1, 1, 3, ev_k_dynquant },
	{ "", "Einsum",          12,  K, EV_NUM,                       0, 1, V, 1, ev_k_einsum },
	{ "", "Elu",              6,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_elu },
	{ "", "Equal",            7,  K, EV_NUMB | OD_DT(OD_STRING),   0, 2, 2, 1, ev_k_equal },
	{ "", "Erf",              9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_erf },
	{ "", "Exp",              6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_exp },
	{ "", "Expand",           8,  K, EV_ANY,                       0, 2, 2, 1, ev_k_expand },
	{ "", "EyeLike",          9,  K, EV_NUMB | OD_DT(OD_BFLOAT16), 0, 1, 1, 1, ev_k_eyelike },
	{ "", "Flatten",          1,  K, EV_ANY,                       0, 1, 1, 1, ev_k_flatten },
	{ "", "Floor",            6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_floor },
	{ "", "GRU",              7,  K, EV_FLOATS,                    0, 3, 6, 2, ev_k_gru },
	{ "", "Gather",           1,  K, EV_ANY,                       0, 2, 2, 1, ev_k_gather },
	{ "", "GatherElements",  11,  K, EV_ANY,                       0, 2, 2, 1, ev_k_gatherelements },
	{ "", "GatherND",        11,  K, EV_ANY,                       0, 2, 2, 1, ev_k_gathernd },
	{ "", "Gelu",            20,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_gelu },
	{ "", "Gemm",             7,  K, EV_F32 | OD_DT(OD_DOUBLE),    0, 2, 3, 1, ev_k_gemm },
	{ "", "GlobalAveragePool", 1, K, EV_F32,                       0, 1, 1, 1, ev_k_globalaveragepool },
	{ "", "GlobalLpPool",     1,  1, EV_FLOATB,                    0, 1, 1, 1, ev_k_globallppool1 },
	{ "", "GlobalLpPool",     2,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_globallppool },
	{ "", "GlobalMaxPool",    1,  K, EV_F32,                       0, 1, 1, 1, ev_k_globalmaxpool },
	{ "", "Greater",          7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_greater },
	{ "", "GreaterOrEqual",  12,  K, EV_NUM,                       0, 2, 2, 1, ev_k_greater_equal },
	{ "", "GridSample",      16,  K, EV_FLOATB,                    0, 2, 2, 1, ev_k_gridsample },
	{ "", "GroupNormalization", 18, K, EV_FLOATB,                  0, 3, 3, 1, ev_k_groupnorm },
	{ "", "HammingWindow",   17,  K, EV_IDX,                       0, 1, 1, 1, ev_k_hammingwindow },
	{ "", "HannWindow",      17,  K, EV_IDX,                       0, 1, 1, 1, ev_k_hannwindow },
	{ "", "HardSigmoid",      6,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_hardsigmoid },
	{ "", "HardSwish",       14,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_hardswish },
	{ "", "Hardmax",          1, 12, EV_FLOATB,                    0, 1, 1, 1, ev_k_hardmax1 },
	{ "", "Hardmax",         13,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_hardmax },
	{ "", "Identity",         1,  K, EV_ANY,                       0, 1, 1, 1, ev_k_identity },
	{ "", "InstanceNormalization", 6, K, EV_FLOATB,                0, 3, 3, 1, ev_k_instancenorm },
	{ "", "IsInf",           10,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_isinf },
	{ "", "IsNaN",            9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_isnan },
	{ "", "LRN",              1,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_lrn },
	{ "", "LSTM",             7,  K, EV_FLOATS,                    0, 3, 8, 3, ev_k_lstm },
	{ "", "LayerNormalization", 17, K, EV_FLOATB,                  0, 2, 3, 3, ev_k_layernorm },
	{ "", "LeakyRelu",        6,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_leakyrelu },
	{ "", "Less",             7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_less },
	{ "", "LessOrEqual",     12,  K, EV_NUM,                       0, 2, 2, 1, ev_k_less_equal },
	{ "", "Log",              6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_log },
	{ "", "LogSoftmax",       1, 12, EV_FLOATS,                    0, 1, 1, 1, ev_k_logsoftmax1 },
	{ "", "LogSoftmax",      13,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_logsoftmax },
	{ "", "LpNormalization",  1,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_lpnorm },
	{ "", "LpPool",           1,  1, EV_FLOATB,                    0, 1, 1, 1, ev_k_lppool1 },
	{ "", "LpPool",           2, 17, EV_FLOATB,                    0, 1, 1, 1, ev_k_lppool2 },
	{ "", "LpPool",          18,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_lppool },
	{ "", "MatMul",           1,  K, EV_F32 | OD_DT(OD_DOUBLE) | MM_INTS, 0, 2, 2, 1, ev_k_matmul },
	{ "", "MatMulInteger",   10,  K, Q8,                           0, 2, 4, 1, ev_k_matmulint },
	{ "", "Max",              8,  K, EV_NUM,                       0, 1, V, 1, ev_k_max },
	{ "", "MaxPool",          1,  K, EV_F32 | OD_DT(OD_INT8) | OD_DT(OD_UINT8), 0, 1, 1, 2, ev_k_maxpool },
	{ "", "MaxUnpool",        9,  K, EV_FLOATB,                    0, 2, 3, 1, ev_k_maxunpool },
	{ "", "Mean",             8,  K, EV_FLOATS,                    0, 1, V, 1, ev_k_mean },
	{ "", "MeanVarianceNormalization", 9, K, EV_FLOATB,            0, 1, 1, 1, ev_k_mvn },
	{ "", "Min",              8,  K, EV_NUM,                       0, 1, V, 1, ev_k_min },
	{ "", "Mish",            18,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_mish },
	{ "", "Mod",             10,  K, EV_NUM,                       0, 2, 2, 1, ev_k_mod },
	{ "", "Mul",              7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_mul },
	{ "", "Neg",              6,  K, EV_FLOATS | EV_SINTS,         0, 1, 1, 1, ev_k_neg },
	{ "", "NegativeLogLikelihoodLoss", 12, K, EV_FLOATB,           0, 2, 3, 1, ev_k_nllloss },
	{ "", "NonMaxSuppression", 10, K, OD_DT(OD_FLOAT),             0, 2, 5, 1, ev_k_nms },
	{ "", "NonZero",          9,  K, EV_NUMB,                      0, 1, 1, 1, ev_k_nonzero },
	{ "", "Not",              1,  K, BOOL_,                        0, 1, 1, 1, ev_k_not },
	{ "", "OneHot",           9,  K, EV_NUM,                       0, 3, 3, 1, ev_k_onehot },
	{ "", "Or",               7,  K, BOOL_,                        0, 2, 2, 1, ev_k_or },
	{ "", "PRelu",            7,  K, EV_FLOATB | EV_IDX | OD_DT(OD_UINT32) | OD_DT(OD_UINT64), 0, 2, 2, 1, ev_k_prelu },
	{ "", "Pad",              2, 10, EV_ANY,                       0, 1, 1, 1, ev_k_pad2 },
	{ "", "Pad",             11,  K, EV_ANY,                       0, 2, 4, 1, ev_k_pad },
	{ "", "Pow",              7,  K, EV_FLOATS | EV_IDX,           0, 2, 2, 1, ev_k_pow },
	{ "", "QLinearConv",     10,  K, Q8,                           0, 8, 9, 1, ev_k_qlconv },
	{ "", "QLinearMatMul",   10,  K, Q8,                           0, 8, 8, 1, ev_k_qlmatmul },
	{ "", "QuantizeLinear",  10,  K, EV_FLOATB | EV_IDX,           0, 2, 3, 1, ev_k_quantize },
	{ "", "RMSNormalization", 23, K, EV_FLOATB,                    0, 2, 2, 1, ev_k_rmsnorm },
	{ "", "RNN",              7,  K, EV_FLOATS,                    0, 3, 6, 2, ev_k_rnn },
	{ "", "Range",           11,  K, EV_FLOATS | EV_SINTS,         0, 3, 3, 1, ev_k_range },
	{ "", "Reciprocal",       6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_reciprocal },
	{ "", "ReduceL1",         1, 17, EV_FLOATS,                    0, 1, 1, 1, ev_k_reduce_l11 },
	{ "", "ReduceL1",        18,  K, EV_FLOATS,                    0, 1, 2, 1, ev_k_reduce_l1 },
	{ "", "ReduceL2",         1, 17, EV_FLOATS,                    0, 1, 1, 1, ev_k_reduce_l21 },
	{ "", "ReduceL2",        18,  K, EV_FLOATS,                    0, 1, 2, 1, ev_k_reduce_l2 },
	{ "", "ReduceLogSum",     1, 17, EV_FLOATS,                    0, 1, 1, 1, ev_k_reduce_log_sum1 },
	{ "", "ReduceLogSum",    18,  K, EV_FLOATS,                    0, 1, 2, 1, ev_k_reduce_log_sum },
	{ "", "ReduceLogSumExp",  1, 17, EV_FLOATS,                    0, 1, 1, 1, ev_k_reduce_log_sum_exp1 },
	{ "", "ReduceLogSumExp", 18,  K, EV_FLOATS,                    0, 1, 2, 1, ev_k_reduce_log_sum_exp },
	{ "", "ReduceMax",        1, 17, EV_NUMB,                      0, 1, 1, 1, ev_k_reduce_max1 },
	{ "", "ReduceMax",       18,  K, EV_NUMB,                      0, 1, 2, 1, ev_k_reduce_max },
	{ "", "ReduceMean",       1, 17, EV_NUM,                       0, 1, 1, 1, ev_k_reduce_mean1 },
	{ "", "ReduceMean",      18,  K, EV_NUM,                       0, 1, 2, 1, ev_k_reduce_mean },
	{ "", "ReduceMin",        1, 17, EV_NUMB,                      0, 1, 1, 1, ev_k_reduce_min1 },
	{ "", "ReduceMin",       18,  K, EV_NUMB,                      0, 1, 2, 1, ev_k_reduce_min },
	{ "", "ReduceProd",       1, 17, EV_NUM,                       0, 1, 1, 1, ev_k_reduce_prod1 },
	{ "", "ReduceProd",      18,  K, EV_NUM,                       0, 1, 2, 1, ev_k_reduce_prod },
	{ "", "ReduceSum",        1, 12, EV_NUM,                       0, 1, 1, 1, ev_k_reduce_sum1 },
	{ "", "ReduceSum",       13,  K, EV_NUM,                       0, 1, 2, 1, ev_k_reduce_sum },
	{ "", "ReduceSumSquare",  1, 17, EV_FLOATS,                    0, 1, 1, 1, ev_k_reduce_sum_square1 },
	{ "", "ReduceSumSquare", 18,  K, EV_FLOATS,                    0, 1, 2, 1, ev_k_reduce_sum_square },
	{ "", "Relu",             6,  K, EV_FLOATS | EV_SINTS,         0, 1, 1, 1, ev_k_relu },
	{ "", "Reshape",          1,  4, EV_ANY,                       0, 1, 1, 1, ev_k_reshape1 },
	{ "", "Reshape",          5,  K, EV_ANY,                       0, 2, 2, 1, ev_k_reshape },
	{ "", "Resize",          10, 10, EV_NUM | OD_DT(OD_BFLOAT16),  0, 2, 2, 1, ev_k_resize10 },
	{ "", "Resize",          11,  K, EV_NUM | OD_DT(OD_BFLOAT16),  0, 1, 4, 1, ev_k_resize },
	{ "", "ReverseSequence", 10,  K, EV_ANY,                       0, 2, 2, 1, ev_k_reversesequence },
	{ "", "RoiAlign",        10,  K, EV_FLOATB,                    0, 3, 3, 1, ev_k_roialign },
	{ "", "RotaryEmbedding", 23,  K, EV_FLOATB,                    0, 3, 4, 1, ev_k_rotary },
	{ "", "Round",           11,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_round },
	{ "", "STFT",            17,  K, EV_FLOATB,                    0, 2, 4, 1, ev_k_stft },
	{ "", "Scatter",          9, 10, EV_ANY,                       0, 3, 3, 1, ev_k_scatterelements },
	{ "", "ScatterElements", 11,  K, EV_ANY,                       0, 3, 3, 1, ev_k_scatterelements },
	{ "", "ScatterND",       11,  K, EV_ANY,                       0, 3, 3, 1, ev_k_scatternd },
	{ "", "Selu",             6,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_selu },
	{ "", "Shape",            1,  K, EV_ANY,                       0, 1, 1, 1, ev_k_shape },
	{ "", "Shrink",           9,  K, EV_NUM | OD_DT(OD_BFLOAT16),  0, 1, 1, 1, ev_k_shrink },
	{ "", "Sigmoid",          6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_sigmoid },
	{ "", "Sign",             9,  K, EV_NUM,                       0, 1, 1, 1, ev_k_sign },
	{ "", "Sin",              7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_sin },
	{ "", "Sinh",             9,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_sinh },
	{ "", "Size",             1,  K, EV_ANY,                       0, 1, 1, 1, ev_k_size },
	{ "", "Slice",            1,  9, EV_ANY,                       0, 1, 1, 1, ev_k_slice1 },
	{ "", "Slice",           10,  K, EV_ANY,                       0, 3, 5, 1, ev_k_slice },
	{ "", "Softmax",          1, 12, EV_FLOATS,                    0, 1, 1, 1, ev_k_softmax1 },
	{ "", "Softmax",         13,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_softmax },
	{ "", "SoftmaxCrossEntropyLoss", 12, K, EV_FLOATB,             0, 2, 3, 2, ev_k_sceloss },
	{ "", "Softplus",         1,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_softplus },
	{ "", "Softsign",         1,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_softsign },
	{ "", "SpaceToDepth",     1,  K, EV_FIXED,                     0, 1, 1, 1, ev_k_spacetodepth },
	{ "", "Split",            2, 12, EV_ANY,                       0, 1, 1, V, ev_k_split2 },
	{ "", "Split",           13,  K, EV_ANY,                       0, 1, 2, V, ev_k_split },
	{ "", "Sqrt",             6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_sqrt },
	{ "", "Squeeze",          1, 12, EV_ANY,                       0, 1, 1, 1, ev_k_squeeze1 },
	{ "", "Squeeze",         13,  K, EV_ANY,                       0, 1, 2, 1, ev_k_squeeze },
	{ "", "Sub",              7,  K, EV_NUM,                       0, 2, 2, 1, ev_k_sub },
	{ "", "Sum",              8,  K, EV_NUM,                       0, 1, V, 1, ev_k_sum },
	{ "", "Swish",           24,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_swish },
	{ "", "Tan",              7,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_tan },
	{ "", "Tanh",             6,  K, EV_FLOATS,                    0, 1, 1, 1, ev_k_tanh },
	{ "", "ThresholdedRelu", 10,  K, EV_FLOATB,                    0, 1, 1, 1, ev_k_thresholdedrelu },
	{ "", "Tile",             6,  K, EV_ANY,                       0, 2, 2, 1, ev_k_tile },
	{ "", "TopK",             1,  9, EV_NUM,                       0, 1, 1, 2, ev_k_topk1 },
	{ "", "TopK",            10,  K, EV_NUM,                       0, 2, 2, 2, ev_k_topk },
	{ "", "Transpose",        1,  K, EV_ANY,                       0, 1, 1, 1, ev_k_transpose },
	{ "", "Trilu",           14,  K, EV_FIXED,                     0, 1, 2, 1, ev_k_trilu },
	{ "", "Unique",          11,  K, EV_NUMB | OD_DT(OD_BFLOAT16), 0, 1, 1, 4, ev_k_unique },
	{ "", "Unsqueeze",        1, 12, EV_ANY,                       0, 1, 1, 1, ev_k_unsqueeze1 },
	{ "", "Unsqueeze",       13,  K, EV_ANY,                       0, 2, 2, 1, ev_k_unsqueeze },
	{ "", "Upsample",         7,  8, EV_NUM | OD_DT(OD_BFLOAT16),  0, 1, 1, 1, ev_k_upsample },
	{ "", "Upsample",         9,  9, EV_NUM | OD_DT(OD_BFLOAT16),  0, 2, 2, 1, ev_k_upsample },
	{ "", "Where",            9,  K, EV_ANY,                       1, 3, 3, 1, ev_k_where },
	{ "", "Xor",              7,  K, BOOL_,                        0, 2, 2, 1, ev_k_xor },
};
#define N_TABLE (sizeof table / sizeof *table)

struct key {
	const char *domain, *op;
	int64_t opset;
};

/* Orders by (domain, op), then finds the row whose opset range holds the key. */
static int cmp_key(const void *kp, const void *ep)
{
	const struct key *k = kp;
	const struct ev_entry *e = ep;
	int c = strcmp(k->domain, e->domain);
	if (!c)
		c = strcmp(k->op, e->op);
	if (c)
		return c;
	if (k->opset < e->since)
		return -1;
	return k->opset > e->until ? 1 : 0;
}

static const char *norm_domain(const char *d)
{
	return od_domain_is_onnx(d) ? "" : d;
}

static const struct ev_entry *lookup(const char *domain, const char *op, int64_t opset)
{
	struct key k = { norm_domain(domain), op ? op : "", opset };
	return bsearch(&k, table, N_TABLE, sizeof *table, cmp_key);
}

/* Whether some row names the op at all (to tell "opset not covered" from "no kernel"). */
static bool known_op(const char *domain, const char *op)
{
	for (size_t i = 0; i < N_TABLE; i++)
		if (!strcmp(table[i].domain, norm_domain(domain)) && !strcmp(table[i].op, op))
			return true;
	return false;
}

bool od_eval_has_kernel(const char *domain, const char *op_type, int64_t opset)
{
	return op_type && lookup(domain, op_type, opset) != NULL;
}

void od_eval_each(void (*fn)(const char *domain, const char *op, int64_t since,
                             int64_t until, uint32_t dtypes, void *priv), void *priv)
{
	for (size_t i = 0; i < N_TABLE; i++)
		fn(table[i].domain, table[i].op, table[i].since, table[i].until, table[i].dtypes,
		   priv);
}

/* Kernels share string bytes with their inputs; outputs must live wholly in the arena. */
static int own_strings(struct ev *e, struct od_tensor *t)
{
	for (int64_t i = 0; i < t->numel; i++) {
		struct od_bytes *b = &t->strings[i];
		if (!b->len)
			continue;
		b->data = od_arena_memdup(e->a, b->data, b->len);
		if (!b->data)
			return ev_err(e, OD_ENOMEM, "out of memory");
	}
	return 0;
}

static int check_call(struct ev *e)
{
	const struct ev_entry *k = e->k;
	if (k->max_in == V && e->nin < k->min_in)
		return ev_bad(e, "%zu inputs given, at least %d expected", e->nin, k->min_in);
	if (k->max_in != V && (e->nin < k->min_in || e->nin > k->max_in)) {
		if (k->min_in == k->max_in)
			return ev_bad(e, "%zu inputs given, %d expected", e->nin, k->min_in);
		return ev_bad(e, "%zu inputs given, %d to %d expected", e->nin, k->min_in,
		              k->max_in);
	}
	if (e->n->n_outputs < 1 || e->n->n_outputs > k->n_out)
		return ev_unsup(e, "%zu outputs not supported", e->n->n_outputs);
	for (size_t i = 0; i < e->nin; i++) {
		if (!e->in[i]) {
			if (i < k->min_in)
				return ev_bad(e, "required input %zu is missing", i);
			continue;
		}
		char what[32];
		snprintf(what, sizeof what, "input %zu", i);
		int rc = ev_check_tensor(e, e->in[i], what);
		if (rc)
			return rc;
	}
	if (k->typed >= 0 && (size_t)k->typed < e->nin && e->in[k->typed])
		return ev_check_dtype(e, e->in[k->typed]->dtype);
	return 0;
}

int od_eval_node(const struct od_node *n, int64_t opset, struct od_tensor *const *ins,
                 struct od_tensor **outs, int64_t max_numel, struct od_arena *a,
                 struct od_ctx *ctx)
{
	if (!n || !n->op_type || !outs || !a || (n->n_inputs && !ins))
		return od_error(ctx, OD_EARG, "od_eval_node: missing argument");
	for (size_t i = 0; i < n->n_outputs; i++)
		outs[i] = NULL;
	struct ev e = { .n = n, .opset = opset, .in = ins, .nin = n->n_inputs, .out = outs,
	                .max_numel = max_numel, .a = a, .ctx = ctx };
	e.k = lookup(n->domain, n->op_type, opset);
	if (!e.k) {
		const char *d = norm_domain(n->domain);
		if (known_op(d, n->op_type))
			return od_error(ctx, OD_EUNSUPPORTED, "%s: opset %lld not supported",
			                n->op_type, (long long)opset);
		return od_error(ctx, OD_EUNSUPPORTED, "%s%s%s: no kernel", d, *d ? "." : "",
		                n->op_type);
	}
	int rc = check_call(&e);
	if (!rc)
		rc = e.k->fn(&e);
	for (size_t i = 0; !rc && i < n->n_outputs; i++)
		if (outs[i] && outs[i]->dtype == OD_STRING)
			rc = own_strings(&e, outs[i]);
	for (size_t i = 0; !rc && i < n->n_outputs; i++)
		if (!outs[i] && n->outputs && n->outputs[i] && *n->outputs[i])
			rc = ev_unsup(&e, "output %zu not produced", i);
	if (rc)
		for (size_t i = 0; i < n->n_outputs; i++)
			outs[i] = NULL;
	return rc;
}
