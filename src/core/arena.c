/*
 * arena.c — the bump allocator that owns everything of one model (and serves protobuf-c
 * as its ProtobufCAllocator, see model.c). Freeing a model is one call.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

#define CHUNK_MIN (64 * 1024)
#define CHUNK_MAX (8u << 20)    /* chunks grow with the arena up to this */
#define ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size;            /* usable bytes after the header */
	size_t used;
	_Alignas(ALIGN) unsigned char mem[];
};

struct od_arena {
	struct chunk *head;
	size_t handed_out;      /* bytes returned to callers, for stats and limits */
};

struct od_arena *od_arena_new(void)
{
	return od_calloc(1, sizeof(struct od_arena));
}

void od_arena_free(struct od_arena *a)
{
	if (!a)
		return;
	for (struct chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		od_free(c);
	}
	od_free(a);
}

/* Chunks grow with the arena (a quarter of what it handed out, up to CHUNK_MAX): a
 * 200k-node graph takes ~120 MB of protobuf-c and onnxdiff structs. Transparent huge
 * pages for the big chunks made loading it 15% faster but its diff 8% slower (the kernel
 * clears whole 2 MB pages of chunks the diff's scratch arenas barely use), so no. */
static size_t chunk_size(const struct od_arena *a, size_t need)
{
	size_t grow = a->handed_out / 4 < CHUNK_MAX ? a->handed_out / 4 : CHUNK_MAX;
	if (need > CHUNK_MIN)
		return need;
	return grow > CHUNK_MIN ? grow & ~(size_t)(CHUNK_MIN - 1) : CHUNK_MIN;
}

static struct chunk *add_chunk(struct od_arena *a, size_t need, bool zero)
{
	size_t size = chunk_size(a, need);
	/* zero: alloc need not memset */
	struct chunk *c = zero ? od_calloc(1, sizeof *c + size) : od_malloc(sizeof *c + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	/* A big one-off block goes behind the current chunk so its free space stays usable. */
	if (a->head && need > CHUNK_MIN) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c;
}

static void *alloc(struct od_arena *a, size_t n, bool zero)
{
	size_t rounded = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct chunk *c = a->head;
	if (rounded < n)
		return NULL;
#ifdef OD_FAULT_INJECTION
	if (od_fault_alloc_fails())     /* tests: every arena allocation can fail in turn */
		return NULL;
#endif
	/* not zeroed: a block too big for the chunks gets a chunk of its own, malloc'd (its
	 * memory may be reused, unlike calloc's fresh pages); a smaller one comes zeroed */
	bool own = !zero && rounded > CHUNK_MIN;
	if (own || !c || c->size - c->used < rounded) {
		c = add_chunk(a, rounded, !own);
		if (!c)
			return NULL;
	}
	void *p = c->mem + c->used;
	c->used += rounded;
	a->handed_out += rounded;
	return p;               /* zero: chunks are calloc'd and never reused */
}

void *od_arena_alloc(struct od_arena *a, size_t n)
{
	return alloc(a, n, true);
}

void *od_arena_alloc_uninit(struct od_arena *a, size_t n)
{
	return alloc(a, n, false);
}

void *od_arena_memdup(struct od_arena *a, const void *p, size_t n)
{
	void *q = od_arena_alloc(a, n);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

char *od_arena_strdup(struct od_arena *a, const char *s)
{
	return s ? od_arena_memdup(a, s, strlen(s) + 1) : NULL;
}

char *od_arena_printf(struct od_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = od_arena_alloc(a, (size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *od_arena_grow(struct od_arena *a, void *p, size_t n, size_t sz, size_t *cap, size_t want)
{
	if (want <= *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 8, bytes;
	if (ncap < want)
		ncap = want;
	if (od_mul_size(ncap, sz, &bytes))
		return NULL;
	void *q = od_arena_alloc(a, bytes);
	if (!q)
		return NULL;
	if (n)
		memcpy(q, p, n * sz);
	*cap = ncap;
	return q;
}

void *od_grow(void *p, size_t n, size_t sz, size_t *cap, size_t first)
{
	size_t ncap, bytes;
	if (n < *cap)
		return p;
	if (od_mul_size(*cap ? *cap : first, *cap ? 2 : 1, &ncap) || od_mul_size(ncap, sz, &bytes))
		return NULL;
	void *q = od_realloc(p, bytes);
	if (q)
		*cap = ncap;
	return q;
}

void od_arena_release(struct od_arena *a, void *p)
{
	struct chunk **link = a ? &a->head : NULL;
	for (struct chunk *c; p && link && (c = *link); link = &c->next)
		if ((void *)c->mem == p) {
			if (c->size <= CHUNK_MIN || c->used != c->size)
				return;         /* shares its chunk: stays until the arena goes */
			*link = c->next;
			a->handed_out -= c->size;
			od_free(c);
			return;
		}
}

size_t od_arena_used(const struct od_arena *a)
{
	return a ? a->handed_out : 0;
}
