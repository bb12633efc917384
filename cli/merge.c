/*
 * merge-lock: git's merge driver for recipe.lock, so that two branches
 * that both built or picked merge without a person reading hashes.
 *
 *   .gitattributes          *.lock merge=loramake
 *   git config merge.loramake.driver "loramake merge-lock %O %A %B"
 *
 * git hands over the common ancestor (%O), ours (%A) and theirs (%B);
 * the merge is written over %A. Node lines are facts about content keys
 * and are unioned; picks merge three-way; picks both sides changed
 * differently stay between conflict markers, and the exit is 1, so git
 * reports the file as conflicted and loramake names the lines.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/path.h"
#include "cli.h"

/* Read one of the three; EXIT_OK or the exit code after saying why. */
static int
load_side(struct lock *l, const char *path)
{
	struct error err;

	if (lock_load(l, path, &err) < 0) {
		warn("%s", err.msg);
		return EXIT_USAGE;
	}
	if (l->nconflicts) {
		lock_report(l);
		return EXIT_USAGE;
	}
	if (l->version > LOCK_VERSION) {
		warn("%s is of a newer lock format (v%u); this loramake cannot merge it",
		     path, l->version);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_merge_lock(const struct cli *cli)
{
	const char *paths[3] = { cli->recipe, cli->args[0], cli->args[1] };
	struct lock in[3] = { 0 }, out;
	struct error err;
	struct buf b;
	int rc = EXIT_OK;

	for (int i = 0; i < 3 && rc == EXIT_OK; i++)
		rc = load_side(&in[i], paths[i]);
	if (rc != EXIT_OK) {
		for (int i = 0; i < 3; i++)
			lock_release(&in[i]);
		return rc;
	}
	lock_merge(&out, paths[1], &in[0], &in[1], &in[2]);
	buf_init(&b);
	lock_format(&out, &b);
	if (write_file_atomic(paths[1], b.data, b.len, &err) < 0) {
		warn("%s", err.msg);
		rc = EXIT_FAILED;
	}
	for (size_t i = 0; i < out.nconflicts; i++)
		warn("picks differ for '%s': %d on our side, %d on theirs; both are "
		     "left between conflict markers: delete the one you do not want",
		     out.conflicts[i].id, out.conflicts[i].ours,
		     out.conflicts[i].theirs);
	if (out.nconflicts)
		rc = EXIT_FAILED;
	buf_release(&b);
	lock_release(&out);
	for (int i = 0; i < 3; i++)
		lock_release(&in[i]);
	return rc;
}
