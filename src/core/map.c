/*
 * map.c — a small string -> index hash map (open addressing, linear probing) used for
 * name lookups in graphs; keys are borrowed from the model arena.
 */
#include "config.h"
#include <string.h>
#include <xxhash.h>
#include "internal.h"

/* Beside the keys, in the same block, the map keeps the low 32 bits of each key's hash: a
 * probe compares those first, so strcmp() (a cache miss on the key's string) runs about once
 * per lookup instead of once per probe, and growing needs no rehash. That was a third of
 * loading a 200k-node graph. The block is m->keys; od_map_done() frees it. */
static uint32_t *hashes(const struct od_map *m)
{
	return (uint32_t *)(m->keys + m->cap);
}

static uint32_t hash_of(const char *key)
{
	return (uint32_t)XXH3_64bits(key, strlen(key));
}

int od_map_init(struct od_map *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2 + 1)
		cap *= 2;
	m->cap = cap;
	m->n = 0;
	m->keys = od_calloc(cap, sizeof *m->keys + sizeof(uint32_t));
	m->vals = od_malloc(cap * sizeof *m->vals);
	if (!m->keys || !m->vals) {
		od_map_done(m);
		return OD_ENOMEM;
	}
	return 0;
}

void od_map_done(struct od_map *m)
{
	od_free(m->keys);
	od_free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->n = 0;
}

static size_t slot_of(const struct od_map *m, const char *key, uint32_t h)
{
	const uint32_t *hs = hashes(m);
	size_t i = h & (m->cap - 1);
	while (m->keys[i] && (hs[i] != h || strcmp(m->keys[i], key)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct od_map *m)
{
	struct od_map bigger;
	if (od_map_init(&bigger, m->cap))
		return OD_ENOMEM;
	const uint32_t *hs = hashes(m);
	uint32_t *bhs = hashes(&bigger);
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t j = hs[i] & (bigger.cap - 1);
			while (bigger.keys[j])      /* keys are distinct: only a free slot will do */
				j = (j + 1) & (bigger.cap - 1);
			bigger.keys[j] = m->keys[i];
			bhs[j] = hs[i];
			bigger.vals[j] = m->vals[i];
			bigger.n++;
		}
	od_map_done(m);
	*m = bigger;
	return 0;
}

int od_map_put(struct od_map *m, const char *key, size_t val)
{
	if ((m->n + 1) * 2 > m->cap && grow(m))
		return OD_ENOMEM;
	uint32_t h = hash_of(key);
	size_t i = slot_of(m, key, h);
	if (m->keys[i])
		return 1;
	m->keys[i] = key;
	hashes(m)[i] = h;
	m->vals[i] = val;
	m->n++;
	return 0;
}

bool od_map_get(const struct od_map *m, const char *key, size_t *val)
{
	if (!m->cap)
		return false;
	size_t i = slot_of(m, key, hash_of(key));
	if (!m->keys[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}
