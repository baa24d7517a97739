/*
 * model_priv.h — what model.c, external.c and writer.c share about a loaded model: the
 * mapping, the protobuf-c skeleton and the side files of external data.
 */
#ifndef OD_MODEL_PRIV_H
#define OD_MODEL_PRIV_H

#include "od.h"
#include <sys/types.h>
#include "internal.h"
#include "onnx.pb-c.h"

struct ext_file {
	struct ext_file *next;
	const char *location;   /* as first written in the model, arena */
	void *map;              /* whole side file, read-only; NULL when empty */
	size_t len;
	dev_t dev;              /* identity: one mapping per file, however it is spelt */
	ino_t ino;
	int fd;                 /* kept open for od_model_sources(), or -1 */
	bool borrowed;          /* map belongs to another model (od_load_opts.ext_from) */
};

struct model_priv {
	void *map;              /* the .onnx file, or NULL when loaded from a caller's buffer */
	size_t map_len;
	int fd;                 /* the .onnx file kept open (od_model_sources()), or -1 */
	size_t n_fds;           /* side files kept open */
	Onnx__ModelProto *pb;   /* skeleton unpacked into the model arena */
	char *dir;              /* folder external data is confined to (arena), NULL: refused */
	struct ext_file *ext;   /* mapped side files */
	struct od_map by_loc;   /* location as written -> struct ext_file * (uintptr_t) */
	struct od_map by_id;    /* "dev:ino" (arena) -> struct ext_file * (uintptr_t) */
	const struct od_model *ext_from; /* side files are taken from this model's when it has them */
	dev_t dev;              /* identity of the .onnx file when loaded from a path */
	ino_t ino;
	bool has_id;
};

/* A new empty model with its arena and private part. */
int od_model_alloc(const char *name, const char *dir, struct od_model **out, struct od_ctx *ctx);
/* malloc'd folder part of path ("." when there is none). */
char *od_dirname(const char *path);
/* Whether m reads the file of this identity: its .onnx file (*is_model set) or a side file. */
bool od_model_reads(const struct od_model *m, dev_t dev, ino_t ino, bool *is_model);
/* Resolves an EXTERNAL tensor: checks the location stays in the model's folder, maps the
 * side file and points t->data at the payload. */
int od_external_resolve(struct od_model *m, const Onnx__TensorProto *tp, struct od_tensor *t,
                        bool no_external, struct od_ctx *ctx);

#endif
