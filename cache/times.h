#ifndef LM_TIMES_H
#define LM_TIMES_H
/*
 * times: how long each kind of job took on this machine, learned from
 * the builds themselves, for the plan's ETA.
 *
 *   .loramake/times
 *   # loramake times v1
 *   ENGINE<TAB>MODEL<TAB>KIND<TAB>SECONDS<TAB>COUNT
 *
 * ENGINE is the engine type (fal, replicate, preview, local, ...), MODEL
 * the model or "-", KIND the node kind (kind_name); SECONDS the mean wall
 * time of one such job over the last builds, COUNT how many jobs it has
 * seen. Two rows are the package's own steps, per image: ENGINE
 * "package", MODEL "assemble" (writing it into the ZIP or folder) and
 * "normalise" (the cached normalisation, runtime/normalise.h).
 *
 * Times are advice, not state: they live in the cache, not the lock (a
 * lock that changed with every build's timings would differ between two
 * machines that built the same thing, and local steps are as fast as the
 * machine they ran on). The file is rewritten atomically at the end of a
 * build, with the build lock held; a build that is killed teaches
 * nothing. It is read with the state files' discipline (cache/record.h):
 * a torn, damaged or malformed line, or a time that is not a finite
 * number of seconds below TIMES_MAX_SECONDS, is skipped.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/htab.h"
#include "base/util.h"
#include "compiler/dag.h"

#define TIMES_VERSION 1
#define TIMES_MAX_ROWS 4096          /* more are not read */
#define TIMES_MAX_SECONDS 1e6        /* 11 days: no job takes longer */
#define TIMES_MAX_NAME 256           /* bytes of ENGINE, MODEL or KIND */
/* How many past jobs a mean weighs as, at most: recent builds count. */
#define TIMES_MEMORY 20

struct time_row {
	char *name;           /* "ENGINE\tMODEL\tKIND", the table's key */
	double seconds;       /* the mean, as read or last written */
	unsigned long count;
	double new_sum;       /* what this build measured, not yet merged */
	unsigned long new_count;
};

struct times {
	char *path;           /* NULL: no cache, nothing is written */
	struct htab byname;   /* name -> struct time_row * */
	struct time_row **rows;
	size_t n, cap;
};

/* Read path (missing or damaged: empty; NULL: an empty table). */
void times_load(struct times *t, const char *path);
void times_release(struct times *t);

/* The mean seconds of one job of this engine, model and kind, in
 * *seconds; false when no build has measured one. model may be NULL. */
bool times_get(const struct times *t, const char *engine, const char *model,
	       const char *kind, double *seconds);
/* This build measured one such job at seconds. */
void times_add(struct times *t, const char *engine, const char *model,
	       const char *kind, double seconds);
/* The same for a node's job (its engine type, model and kind). */
void times_add_node(struct times *t, const struct node *n, double seconds);
bool times_get_node(const struct times *t, const struct node *n,
		    double *seconds);

/* Merge what was measured into the means and rewrite the file. A
 * build that measured nothing writes nothing. 0, or -1 with err. */
int times_save(struct times *t, struct error *err);

#endif
