/*
 * map.c — a small string -> index hash map (open addressing, linear probing) used for
 * name lookups in graphs; keys are borrowed from the model arena.
 */
#include "config.h"
#include <string.h>
#include <xxhash.h>
#include "internal.h"

int od_map_init(struct od_map *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2 + 1)
		cap *= 2;
	m->cap = cap;
	m->n = 0;
	m->keys = od_calloc(cap, sizeof *m->keys);
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

static size_t slot_of(const struct od_map *m, const char *key)
{
	size_t i = (size_t)XXH3_64bits(key, strlen(key)) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct od_map *m)
{
	struct od_map bigger;
	if (od_map_init(&bigger, m->cap))
		return OD_ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t j = slot_of(&bigger, m->keys[i]);
			bigger.keys[j] = m->keys[i];
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
	size_t i = slot_of(m, key);
	if (m->keys[i])
		return 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

bool od_map_get(const struct od_map *m, const char *key, size_t *val)
{
	if (!m->cap)
		return false;
	size_t i = slot_of(m, key);
	if (!m->keys[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}
