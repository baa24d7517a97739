/*
 * cli_feed.h — --feed, --dim and --seed for `run` and `verify` (cli_feed.c).
 */
#ifndef OD_CLI_FEED_H
#define OD_CLI_FEED_H

#include "od.h"
#include "run.h"

struct cli_feed {
	const char *name;       /* argv text, split at '=' */
	const char *spec;       /* a literal, @file.npy or @file.pb */
};

struct cli_feeds {
	struct cli_feed *feeds; /* malloc'd */
	size_t n_feeds;
	struct od_dim_size *dims; /* malloc'd; params point into argv */
	size_t n_dims;
	uint64_t seed;
};

/* Takes option opt ("feed", "dim" or "seed") with argument arg (split in place). 0 or
 * CLI_TROUBLE after an error line. */
int cli_feed_opt(struct cli_feeds *f, const char *opt, char *arg);
void cli_feeds_free(struct cli_feeds *f);
/* The --feed values naming inputs of m, parsed for their inputs' dtypes (only_known: the
 * others are left out, else they are an error). *out lives in arena a. 0 or CLI_TROUBLE
 * after an error line. */
int cli_feeds_parse(const struct od_model *m, const struct cli_feeds *f, bool only_known,
                    struct od_arena *a, struct od_feed **out, size_t *n_out);
/* All the feeds of m: the --feed values, the rest seeded random (od_feeds_complete). */
int cli_feeds_make(const struct od_model *m, const struct cli_feeds *f, struct od_arena *a,
                   struct od_feed **out, size_t *n_out);

#endif
