/*
 * writer.c — turns a struct od_model back into protobuf messages and streams them out.
 *
 * Each item that still has its src message is a shallow copy of it with the parts
 * onnxdiff models replaced, so fields it does not model (doc strings, annotations, fields
 * of newer schemas kept as unknown fields) survive. Payloads are never gathered into one
 * buffer: protobuf-c packs through a ProtobufCBuffer that writes to the file, and tensor
 * views into the input's mapping are written from where they are.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "internal.h"
#include "model_priv.h"
#include "outfile.h"

struct writer {
	struct od_arena *a;     /* scratch for the messages built here */
	const struct od_save_opts *opts;
	FILE *ext;              /* side file for external payloads, NULL when none */
	const char *ext_name;   /* its name as written in the model */
	uint64_t ext_off;
	int err;                /* errno of the first failed write */
	bool oom;
	bool all_external;      /* payloads >= external_min go to the side file */
	bool ext_used;          /* some tensor points into it: else no side file is left */
	struct od_source *src;  /* the model's open files, od_free (od_model_save only) */
	size_t n_src, cap_src;
	XXH3_state_t *hash;     /* of what goes to the side file, which names it */
};

/* Payloads at least this big that lie in one of the model's files are copied file to file
 * (od_copy_range()), not written from the mapping: no page of them is touched here. */
#define COPY_MIN (64u << 10)

/* Writes the len bytes at p to f; 0, or -1 with errno set. */
static int put(const struct writer *w, FILE *f, const void *p, size_t len)
{
	off_t off;
	int fd = len >= COPY_MIN ? od_source_find(w->src, w->n_src, p, len, &off) : -1;
	if (fd >= 0)
		return od_copy_range(fd, off, f, len);
	return len && od_fwrite(p, 1, len, f) != len ? -1 : 0;
}

#define W_NEW(w, p, init) do { \
	(p) = od_arena_alloc((w)->a, sizeof *(p)); \
	if (!(p)) { (w)->oom = true; return NULL; } \
	*(p) = (__typeof__(*(p)))init; \
} while (0)

static void *w_array(struct writer *w, size_t n, size_t sz)
{
	void *p = od_arena_alloc(w->a, n && sz ? n * sz : 1);
	if (!p)
		w->oom = true;
	return p;
}

static Onnx__GraphProto *build_graph(struct writer *w, const struct od_graph *g);

/* An optional string field: "" stays unset when the original left it unset (proto2 keeps
 * the difference, and so does a round trip). */
static char *keep(const char *now, const char *orig, bool had_src)
{
	if (*now || (had_src && orig))
		return (char *)now;
	return NULL;
}
#define KEEP(now, srcp, type, field) \
	keep(now, (srcp) ? ((const type *)(srcp))->field : NULL, (srcp) != NULL)

static Onnx__StringStringEntryProto *entry(struct writer *w, const char *k, const char *v)
{
	Onnx__StringStringEntryProto *e;
	if (!k || !v) {         /* an od_arena_printf that failed: no "offset" without a value */
		w->oom = true;
		return NULL;
	}
	W_NEW(w, e, ONNX__STRING_STRING_ENTRY_PROTO__INIT);
	e->key = (char *)k;
	e->value = (char *)v;
	return e;
}

static bool goes_external(const struct writer *w, const struct od_tensor *t)
{
	size_t min = w->opts && w->opts->external_min ? w->opts->external_min : 1024;
	if (t->dtype == OD_STRING || !t->data)
		return false;
	return t->ext || (w->all_external && t->nbytes >= min);
}

/* Appends the payload to the side file and points tp at it. */
static void write_external(struct writer *w, const struct od_tensor *t, Onnx__TensorProto *tp)
{
	if (put(w, w->ext, t->data, t->nbytes) && !w->err)
		w->err = errno ? errno : EIO;
	if (w->hash) {          /* the payload's own hash (dtype, dims, bytes), cached in t */
		uint64_t h[2] = {od_tensor_hash((struct od_tensor *)t), t->nbytes};
		XXH3_64bits_update(w->hash, h, sizeof h);
	}
	tp->has_raw_data = 0;
	tp->raw_data = (ProtobufCBinaryData){0, NULL};
	tp->n_float_data = tp->n_int32_data = tp->n_int64_data = tp->n_double_data = tp->n_uint64_data = 0;
	tp->has_data_location = 1;
	tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	tp->n_external_data = 3;
	tp->external_data = w_array(w, 3, sizeof *tp->external_data);
	if (!tp->external_data)
		return;
	tp->external_data[0] = entry(w, "location", w->ext_name);
	tp->external_data[1] = entry(w, "offset", od_arena_printf(w->a, "%llu", (unsigned long long)w->ext_off));
	tp->external_data[2] = entry(w, "length", od_arena_printf(w->a, "%zu", t->nbytes));
	w->ext_off += t->nbytes;
	w->ext_used = true;
}

static Onnx__TensorProto *build_tensor(struct writer *w, const struct od_tensor *t)
{
	Onnx__TensorProto *tp;
	W_NEW(w, tp, ONNX__TENSOR_PROTO__INIT);
	if (t->src && !t->data_dirty) {
		*tp = *(const Onnx__TensorProto *)t->src;
	} else {
		tp->name = KEEP(t->name, t->src, Onnx__TensorProto, name);
		tp->has_data_type = 1;
		tp->data_type = t->dtype;
		tp->n_dims = (size_t)t->ndims;
		tp->dims = t->dims;
		if (t->dtype == OD_STRING) {
			tp->n_string_data = (size_t)t->numel;
			tp->string_data = w_array(w, tp->n_string_data, sizeof *tp->string_data);
			for (size_t i = 0; tp->string_data && i < tp->n_string_data; i++)
				tp->string_data[i] = (ProtobufCBinaryData){t->strings[i].len, (uint8_t *)t->strings[i].data};
		} else {
			tp->has_raw_data = 1;
			tp->raw_data = (ProtobufCBinaryData){t->nbytes, (uint8_t *)t->data};
		}
	}
	if (w->ext && goes_external(w, t))
		write_external(w, t, tp);
	return tp;
}

/* A sparse tensor: its values and indices go through build_tensor() like any tensor. */
static Onnx__SparseTensorProto *build_sparse(struct writer *w, const struct od_tensor *t)
{
	const struct od_sparse *s = t->sparse;
	Onnx__SparseTensorProto *sp;
	W_NEW(w, sp, ONNX__SPARSE_TENSOR_PROTO__INIT);
	if (s->src)
		*sp = *(const Onnx__SparseTensorProto *)s->src;
	sp->n_dims = (size_t)t->ndims;
	sp->dims = t->dims;
	sp->values = build_tensor(w, s->values);
	sp->indices = s->indices ? build_tensor(w, s->indices) : NULL;
	return sp;
}

static Onnx__TypeProto *build_type(struct writer *w, const struct od_value *v)
{
	Onnx__TypeProto *tp;
	Onnx__TypeProto__Tensor *tt;
	Onnx__TensorShapeProto *sh;
	W_NEW(w, tp, ONNX__TYPE_PROTO__INIT);
	W_NEW(w, tt, ONNX__TYPE_PROTO__TENSOR__INIT);
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = v->dtype;
	if (v->rank < 0)
		return tp;
	W_NEW(w, sh, ONNX__TENSOR_SHAPE_PROTO__INIT);
	tt->shape = sh;
	sh->n_dim = (size_t)v->rank;
	sh->dim = w_array(w, sh->n_dim, sizeof *sh->dim);
	for (size_t i = 0; sh->dim && i < sh->n_dim; i++) {
		Onnx__TensorShapeProto__Dimension *d;
		W_NEW(w, d, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
		if (v->dims[i].value >= 0) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = v->dims[i].value;
		} else if (v->dims[i].param) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = (char *)v->dims[i].param;
		}
		sh->dim[i] = d;
	}
	return tp;
}

static Onnx__ValueInfoProto *build_value(struct writer *w, const struct od_value *v)
{
	Onnx__ValueInfoProto *vp;
	if (v->src && !v->dirty)
		return (Onnx__ValueInfoProto *)v->src;
	W_NEW(w, vp, ONNX__VALUE_INFO_PROTO__INIT);
	if (v->src)
		*vp = *(const Onnx__ValueInfoProto *)v->src;
	vp->name = KEEP(v->name, v->src, Onnx__ValueInfoProto, name);
	vp->doc_string = (char *)v->doc_string;
	if (!v->src || v->kind == OD_TYPE_TENSOR)
		vp->type = v->kind == OD_TYPE_TENSOR ? build_type(w, v) : NULL;
	return vp;
}

static Onnx__AttributeProto *build_attr(struct writer *w, const struct od_attr *a)
{
	Onnx__AttributeProto *ap;
	W_NEW(w, ap, ONNX__ATTRIBUTE_PROTO__INIT);
	if (a->src)
		*ap = *(const Onnx__AttributeProto *)a->src;
	ap->name = KEEP(a->name, a->src, Onnx__AttributeProto, name);
	ap->has_type = 1;
	ap->type = a->type;
	ap->ref_attr_name = (char *)a->ref_attr_name;
	if (!a->src || a->dirty) {
		ap->has_f = a->type == OD_ATTR_FLOAT;
		ap->f = a->f;
		ap->has_i = a->type == OD_ATTR_INT;
		ap->i = a->i;
		ap->has_s = a->type == OD_ATTR_STRING;
		ap->s = (ProtobufCBinaryData){a->s.len, (uint8_t *)a->s.data};
		ap->n_floats = a->type == OD_ATTR_FLOATS ? a->n : 0;
		ap->floats = a->floats;
		ap->n_ints = a->type == OD_ATTR_INTS ? a->n : 0;
		ap->ints = a->ints;
		ap->n_strings = a->type == OD_ATTR_STRINGS ? a->n : 0;
		ap->strings = w_array(w, ap->n_strings, sizeof *ap->strings);
		for (size_t i = 0; ap->strings && i < ap->n_strings; i++)
			ap->strings[i] = (ProtobufCBinaryData){a->strings[i].len, (uint8_t *)a->strings[i].data};
	}
	if (a->type == OD_ATTR_TENSOR && a->t)
		ap->t = build_tensor(w, a->t);
	if (a->type == OD_ATTR_GRAPH && a->g)
		ap->g = build_graph(w, a->g);
	if (a->type == OD_ATTR_TENSORS) {
		ap->n_tensors = a->n;
		ap->tensors = w_array(w, a->n, sizeof *ap->tensors);
		for (size_t i = 0; ap->tensors && i < a->n; i++)
			ap->tensors[i] = build_tensor(w, a->tensors[i]);
	}
	if (a->type == OD_ATTR_SPARSE_TENSOR && a->t && a->t->sparse)
		ap->sparse_tensor = build_sparse(w, a->t);
	if (a->type == OD_ATTR_SPARSE_TENSORS) {
		ap->n_sparse_tensors = a->n;
		ap->sparse_tensors = w_array(w, a->n, sizeof *ap->sparse_tensors);
		for (size_t i = 0; ap->sparse_tensors && i < a->n; i++)
			ap->sparse_tensors[i] = build_sparse(w, a->tensors[i]);
	}
	if (a->type == OD_ATTR_GRAPHS) {
		ap->n_graphs = a->n;
		ap->graphs = w_array(w, a->n, sizeof *ap->graphs);
		for (size_t i = 0; ap->graphs && i < a->n; i++)
			ap->graphs[i] = build_graph(w, a->graphs[i]);
	}
	return ap;
}

static Onnx__NodeProto *build_node(struct writer *w, const struct od_node *n)
{
	Onnx__NodeProto *np;
	W_NEW(w, np, ONNX__NODE_PROTO__INIT);
	if (n->src)
		*np = *(const Onnx__NodeProto *)n->src;
	np->op_type = (char *)n->op_type;
	np->domain = KEEP(n->domain, n->src, Onnx__NodeProto, domain);
	np->name = KEEP(n->name, n->src, Onnx__NodeProto, name);
	np->n_input = n->n_inputs;
	np->input = (char **)n->inputs;
	np->n_output = n->n_outputs;
	np->output = (char **)n->outputs;
	np->n_attribute = n->n_attrs;
	np->attribute = w_array(w, n->n_attrs, sizeof *np->attribute);
	for (size_t i = 0; np->attribute && i < n->n_attrs; i++)
		np->attribute[i] = build_attr(w, &n->attrs[i]);
	return np;
}

#define BUILD_ARRAY(w, dst, ndst, src, nsrc, fn) do { \
	(ndst) = (nsrc); \
	(dst) = w_array(w, nsrc, sizeof *(dst)); \
	for (size_t i_ = 0; (dst) && i_ < (nsrc); i_++) \
		(dst)[i_] = fn(w, (src)[i_]); \
} while (0)

static Onnx__GraphProto *build_graph(struct writer *w, const struct od_graph *g)
{
	Onnx__GraphProto *gp;
	W_NEW(w, gp, ONNX__GRAPH_PROTO__INIT);
	if (g->src)
		*gp = *(const Onnx__GraphProto *)g->src;
	gp->name = KEEP(g->name, g->src, Onnx__GraphProto, name);
	BUILD_ARRAY(w, gp->node, gp->n_node, g->nodes, g->n_nodes, build_node);
	gp->n_initializer = gp->n_sparse_initializer = 0;
	gp->initializer = w_array(w, g->n_inits, sizeof *gp->initializer);
	gp->sparse_initializer = w_array(w, g->n_inits, sizeof *gp->sparse_initializer);
	for (size_t i = 0; gp->initializer && gp->sparse_initializer && i < g->n_inits; i++) {
		if (g->inits[i]->sparse)
			gp->sparse_initializer[gp->n_sparse_initializer++] = build_sparse(w, g->inits[i]);
		else
			gp->initializer[gp->n_initializer++] = build_tensor(w, g->inits[i]);
	}
	BUILD_ARRAY(w, gp->input, gp->n_input, g->inputs, g->n_inputs, build_value);
	BUILD_ARRAY(w, gp->output, gp->n_output, g->outputs, g->n_outputs, build_value);
	BUILD_ARRAY(w, gp->value_info, gp->n_value_info, g->value_info, g->n_value_info, build_value);
	return gp;
}

static Onnx__OperatorSetIdProto **build_opsets(struct writer *w, const struct od_opset *ops, size_t n)
{
	Onnx__OperatorSetIdProto **arr = w_array(w, n, sizeof *arr);
	for (size_t i = 0; arr && i < n; i++) {
		const Onnx__OperatorSetIdProto *src = ops[i].src;
		if (src && src->version == ops[i].version && !strcmp(src->domain ? src->domain : "", ops[i].domain)) {
			arr[i] = (Onnx__OperatorSetIdProto *)src;
			continue;
		}
		W_NEW(w, arr[i], ONNX__OPERATOR_SET_ID_PROTO__INIT);
		arr[i]->domain = (char *)ops[i].domain;
		arr[i]->has_version = 1;
		arr[i]->version = ops[i].version;
	}
	return arr;
}

static char **value_names(struct writer *w, struct od_value **v, size_t n)
{
	char **names = w_array(w, n, sizeof *names);
	for (size_t i = 0; names && i < n; i++)
		names[i] = (char *)v[i]->name;
	return names;
}

static Onnx__FunctionProto *build_function(struct writer *w, const struct od_function *f)
{
	Onnx__FunctionProto *fp;
	W_NEW(w, fp, ONNX__FUNCTION_PROTO__INIT);
	if (f->src)
		*fp = *(const Onnx__FunctionProto *)f->src;
	fp->name = KEEP(f->name, f->src, Onnx__FunctionProto, name);
	fp->domain = KEEP(f->domain, f->src, Onnx__FunctionProto, domain);
	fp->n_input = f->body->n_inputs;
	fp->input = value_names(w, f->body->inputs, f->body->n_inputs);
	fp->n_output = f->body->n_outputs;
	fp->output = value_names(w, f->body->outputs, f->body->n_outputs);
	fp->n_attribute = f->n_attr_names;
	fp->attribute = (char **)f->attr_names;
	fp->n_opset_import = f->n_opsets;
	fp->opset_import = build_opsets(w, f->opsets, f->n_opsets);
	BUILD_ARRAY(w, fp->node, fp->n_node, f->body->nodes, f->body->n_nodes, build_node);
	return fp;
}

static Onnx__ModelProto *build_model(struct writer *w, const struct od_model *m)
{
	struct model_priv *priv = m->priv;
	Onnx__ModelProto *mp;
	W_NEW(w, mp, ONNX__MODEL_PROTO__INIT);
	if (priv->pb)
		*mp = *priv->pb;
	mp->has_ir_version = 1;
	mp->ir_version = m->ir_version;
	mp->producer_name = KEEP(m->producer_name, priv->pb, Onnx__ModelProto, producer_name);
	mp->producer_version = KEEP(m->producer_version, priv->pb, Onnx__ModelProto, producer_version);
	mp->domain = KEEP(m->domain, priv->pb, Onnx__ModelProto, domain);
	mp->doc_string = KEEP(m->doc_string, priv->pb, Onnx__ModelProto, doc_string);
	if (priv->pb)
		mp->has_model_version = priv->pb->has_model_version || m->model_version;
	mp->model_version = m->model_version;
	mp->n_opset_import = m->n_opsets;
	mp->opset_import = build_opsets(w, m->opsets, m->n_opsets);
	mp->n_metadata_props = m->n_props;
	mp->metadata_props = w_array(w, m->n_props, sizeof *mp->metadata_props);
	for (size_t i = 0; mp->metadata_props && i < m->n_props; i++) {
		const Onnx__StringStringEntryProto *src = m->props[i].src;
		mp->metadata_props[i] = src && !strcmp(src->key ? src->key : "", m->props[i].key) &&
		        !strcmp(src->value ? src->value : "", m->props[i].value) ?
		        (Onnx__StringStringEntryProto *)src : entry(w, m->props[i].key, m->props[i].value);
	}
	mp->graph = build_graph(w, m->graph);
	BUILD_ARRAY(w, mp->functions, mp->n_functions, m->functions, m->n_functions, build_function);
	return mp;
}

/* ---- output -------------------------------------------------------------------------------- */

struct file_buffer {
	ProtobufCBuffer base;
	FILE *f;
	int err;
	const struct writer *w;
};

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct file_buffer *fb = (struct file_buffer *)b;
	if (!fb->err && put(fb->w, fb->f, data, len))
		fb->err = errno ? errno : EIO;
}

int od_model_serialize(struct od_model *m, void **buf, size_t *len, struct od_ctx *ctx)
{
	struct writer w = {od_arena_new(), NULL, NULL, NULL, 0, 0, false, false, false, NULL, 0, 0, NULL};
	int rc = 0;
	*buf = NULL;
	Onnx__ModelProto *mp = w.a ? build_model(&w, m) : NULL;
	if (!mp || w.oom) {
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
		goto out;
	}
	*len = protobuf_c_message_get_packed_size(&mp->base);
	*buf = od_malloc(*len);
	if (!*buf) {
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
		goto out;
	}
	protobuf_c_message_pack(&mp->base, *buf);
out:
	od_arena_free(w.a);
	return rc;
}

/* Protobuf's own parsers (onnx, onnxruntime) refuse messages over 2 GB: a model whose
 * payloads would pass this goes to external data even when not asked to. */
#define INLINE_MAX ((uint64_t)INT32_MAX - (64u << 20))  /* 64 MB left for the graph */

struct payloads {
	uint64_t inline_bytes;  /* payloads the model file would carry */
	bool external;          /* some payload came from a side file */
};

static void count_tensor(struct payloads *p, const struct od_tensor *t)
{
	if (t && t->sparse) {
		count_tensor(p, t->sparse->values);
		count_tensor(p, t->sparse->indices);
	} else if (t && t->ext)
		p->external = true;
	else if (t && t->data)
		p->inline_bytes += t->nbytes;
}

static void count_payloads(struct payloads *p, const struct od_graph *g, int depth)
{
	if (!g || depth > OD_MAX_DEPTH_DEFAULT * 4)
		return;
	for (size_t i = 0; i < g->n_inits; i++)
		count_tensor(p, g->inits[i]);
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++) {
			const struct od_attr *a = &g->nodes[i]->attrs[k];
			if (a->type == OD_ATTR_TENSOR || a->type == OD_ATTR_SPARSE_TENSOR)
				count_tensor(p, a->t);
			if (a->type == OD_ATTR_GRAPH)
				count_payloads(p, a->g, depth + 1);
			for (size_t e = 0; (a->type == OD_ATTR_TENSORS || a->type == OD_ATTR_SPARSE_TENSORS) && e < a->n; e++)
				count_tensor(p, a->tensors[e]);
			for (size_t e = 0; a->type == OD_ATTR_GRAPHS && e < a->n; e++)
				count_payloads(p, a->graphs[e], depth + 1);
		}
}

/* ---- od_model_save: where the files go ---------------------------------------------------- */

struct target {
	const char *path;
	char *dir;              /* malloc'd */
	const char *base;       /* last part of path */
	int dfd;                /* dir */
	mode_t mode;            /* of the file replaced, else 0666 & ~umask */
	bool over_input;        /* path is m's own file */
};

/* Only a regular file or a new name, and none that m reads (but its own file when allowed). */
static int check_target(struct od_model *m, struct target *t, const struct od_save_opts *opts,
                        struct od_ctx *ctx)
{
	struct stat st;
	bool is_model;
	mode_t mask = umask(0);
	umask(mask);
	t->mode = 0666 & ~mask;
	if (stat(t->path, &st))
		return errno == ENOENT ? 0 : od_error(ctx, OD_EIO, "cannot write '%s': %s", t->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return od_error(ctx, OD_EIO, "cannot write '%s': %s", t->path,
		                S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
	if (od_model_reads(m, st.st_dev, st.st_ino, &is_model) && !is_model)
		return od_error(ctx, OD_EARG, "output '%s' is external data of the input model", t->path);
	if (is_model && !(opts && opts->replace_input))
		return od_error(ctx, OD_EARG, "output '%s' is the input model", t->path);
	t->over_input = is_model;
	t->mode = st.st_mode & 07777;
	return 0;
}

/* "<stem>.<16 hex>.data", the stem cut so that the name fits in NAME_MAX. */
#define SIDE_SUFFIX_LEN 22
static size_t side_stem_len(const char *base)
{
	size_t n = strlen(base);
	return n + SIDE_SUFFIX_LEN > NAME_MAX ? NAME_MAX - SIDE_SUFFIX_LEN : n;
}

static bool is_old_side(const char *name, const char *base, const char *keep)
{
	size_t stem = side_stem_len(base), n = strlen(name);
	if (!strcmp(name, keep))
		return false;
	if (n == strlen(base) + 5 && !strncmp(name, base, n - 5) && !strcmp(name + n - 5, ".data"))
		return true;
	return n == stem + SIDE_SUFFIX_LEN && !strncmp(name, base, stem) && name[stem] == '.' &&
	       strspn(name + stem + 1, "0123456789abcdef") == 16 && !strcmp(name + stem + 17, ".data");
}

/* Removes the side files earlier versions of the target left ("<out>.data",
 * "<out>.<hash>.data"), but none m reads unless the target was m itself. */
static void remove_old_sides(struct od_model *m, const struct target *t, const char *keep)
{
	int fd = openat(t->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		bool is_model;
		if (!is_old_side(de->d_name, t->base, keep) ||
		    fstatat(t->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (!t->over_input && od_model_reads(m, st.st_dev, st.st_ino, &is_model))
			continue;
		unlinkat(t->dfd, de->d_name, 0);
	}
	closedir(d);
}

/* The side file's final name must not replace a file m reads, unless the target is m. */
static int check_side_name(struct od_model *m, const struct target *t, const char *name,
                           struct od_ctx *ctx)
{
	struct stat st;
	bool is_model;
	if (t->over_input || fstatat(t->dfd, name, &st, 0) || !od_model_reads(m, st.st_dev, st.st_ino, &is_model))
		return 0;
	return od_error(ctx, OD_EARG, "cannot write '%s': its side file '%s' is read by the input model",
	                t->path, name);
}

/* Links the side file, then the model, under their names, holding a lock on the folder so
 * that concurrent writers of the same target commit one after the other. */
static int commit(struct od_model *m, const struct target *t, struct outfile *mo,
                  struct outfile *so, const char *side, bool own_names, struct od_ctx *ctx)
{
	int rc = 0;
	bool locked = !flock(t->dfd, LOCK_EX);  /* advisory: onnxdiff against onnxdiff */
	if (so->fd >= 0 && (rc = check_side_name(m, t, side, ctx)))
		goto out;
	if ((so->fd >= 0 && outfile_commit(so, side)) || outfile_commit(mo, t->base)) {
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", t->path, strerror(errno));
		goto out;
	}
	if (own_names)
		remove_old_sides(m, t, so->committed ? side : "");
out:
	if (locked)
		flock(t->dfd, LOCK_UN);
	return rc;
}

/* The side file name with room for its hash, filled in once the content is known: the
 * xxh3 of each payload's od_tensor_hash and size, in the order they are written. Equal
 * names mean equal bytes (to 64 bits), so two writers never share a name for different
 * contents; the payload hashes are the ones diff and show use, read from the files on all
 * CPUs, so naming costs no pass through the mapping. */
static char *side_name(struct writer *w, const char *base, const struct od_save_opts *opts)
{
	if (opts && opts->external_name)
		return od_arena_strdup(w->a, opts->external_name);
	return od_arena_printf(w->a, "%.*s.0000000000000000.data", (int)side_stem_len(base), base);
}

static int write_files(struct od_model *m, struct writer *w, struct target *t,
                       struct outfile *mo, struct outfile *so, struct od_ctx *ctx)
{
	Onnx__ModelProto *mp = build_model(w, m);
	if (!mp || w->oom)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (w->hash) {
		/* every payload is in the side file now: its name, which the model holds, is known */
		char *hex = (char *)w->ext_name + side_stem_len(t->base) + 1;
		snprintf(hex, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(w->hash));
		hex[16] = '.';
	}
	struct file_buffer fb = {{file_append}, mo->f, 0, w};
	protobuf_c_message_pack_to_buffer(&mp->base, &fb.base);
	int err = outfile_sync(mo, fb.err);
	if (!err && so->fd >= 0)
		err = outfile_sync(so, w->err);
	if (err)
		return od_error(ctx, OD_EIO, "cannot write '%s': %s", t->path, strerror(err));
	if (so->fd >= 0 && !w->ext_used)        /* --external-data, but every payload was small */
		outfile_discard(so);
	return 0;
}

/* Opens the side file when payloads go to one. */
static int open_side(struct od_model *m, struct writer *w, const struct target *t,
                     struct outfile *so, struct od_ctx *ctx)
{
	struct payloads pl = {0, false};
	count_payloads(&pl, m->graph, 0);
	for (size_t i = 0; i < m->n_functions; i++)
		count_payloads(&pl, m->functions[i]->body, 0);
	w->all_external = (w->opts && w->opts->external_data) || pl.inline_bytes > INLINE_MAX;
	if (!w->all_external && !pl.external)
		return 0;
	bool own_name = !(w->opts && w->opts->external_name);
	if (!(w->ext_name = side_name(w, t->base, w->opts)) ||
	    (own_name && (!(w->hash = XXH3_createState()) || XXH3_64bits_reset(w->hash) != XXH_OK)))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (own_name && od_models_hash(&m, 1, 0))   /* the name: payload hashes, read on all CPUs */
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (outfile_open(so, t->dfd, t->mode))
		return od_error(ctx, OD_EIO, "cannot write '%s': %s", t->path, strerror(errno));
	w->ext = so->f;
	return 0;
}

int od_model_save(struct od_model *m, const char *path, const struct od_save_opts *opts,
                  struct od_ctx *ctx)
{
	struct writer w = {od_arena_new(), opts, NULL, NULL, 0, 0, false, false, false, NULL, 0, 0, NULL};
	struct target t = {path, od_dirname(path), NULL, -1, 0, false};
	struct outfile mo = OUTFILE_NONE, so = OUTFILE_NONE;
	bool own_names = !(opts && opts->external_name);
	int rc = 0;
	t.base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!w.a || !t.dir || od_model_sources(m, &w.src, &w.n_src, &w.cap_src)) {
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
		goto out;
	}
	if (!*t.base || !strcmp(t.base, ".") || !strcmp(t.base, "..")) {
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(EISDIR));
		goto out;
	}
	if ((rc = check_target(m, &t, opts, ctx)))
		goto out;
	if ((t.dfd = open(t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((rc = open_side(m, &w, &t, &so, ctx)))
		goto out;
	if (outfile_open(&mo, t.dfd, t.mode)) {
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((rc = write_files(m, &w, &t, &mo, &so, ctx)))
		goto out;
	rc = commit(m, &t, &mo, &so, w.ext_name, own_names, ctx);
out:
	outfile_discard(&mo);
	outfile_discard(&so);
	if (t.dfd >= 0)
		close(t.dfd);
	free(t.dir);
	od_free(w.src);
	XXH3_freeState(w.hash);
	od_arena_free(w.a);
	return rc;
}
