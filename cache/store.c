/*
 * store: objects by content hash, written tmp + fsync + rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "store.h"

int
store_open(struct store *s, const char *dir, bool create, struct error *err)
{
	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	s->root = path_join(dir, ".loramake");
	s->objects = path_join(s->root, "objects");
	s->tmp = path_join(s->root, "tmp");
	if (!create)
		return 0;
	if (mkdirs(s->objects, err) < 0 || mkdirs(s->tmp, err) < 0)
		return -1;
	/* the cache is not for git: say so inside it */
	char *ignore = path_join(s->root, ".gitignore");
	if (!path_exists(ignore))
		write_file_atomic(ignore, "*\n", 2, NULL);
	free(ignore);
	return 0;
}

void
store_close(struct store *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	free(s->root);
	free(s->objects);
	free(s->tmp);
	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
}

int
store_lock(struct store *s, struct error *err)
{
	char *path = path_join(s->root, "build.lock");
	int fd = path_open(path, O_RDWR | O_CREAT, 0666, err);

	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			close(fd);
			return error_set(err, "cannot lock '%s':", s->root);
		}
		fprintf(stderr, "%s: another build of this recipe is running "
			"(it holds %s/build.lock); waiting for it to finish\n",
			lm_progname, s->root);
		if (flock(fd, LOCK_EX) < 0) {
			close(fd);
			return error_set(err, "cannot lock '%s':", s->root);
		}
	}
	s->lockfd = fd;
	return 0;
}

char *
store_tmp_path(struct store *s, const char *suffix)
{
	unsigned seq = __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELAXED);

	return xasprintf("%s/%ld-%u%s", s->tmp, (long)getpid(), seq, suffix);
}

char *
store_object_path(const struct store *s, const struct hash *h)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(h, hex);
	return xasprintf("%s/%.2s/%s", s->objects, hex, hex + 2);
}

bool
store_has(const struct store *s, const struct hash *h)
{
	char *p = store_object_path(s, h);
	struct stat st;
	/* a planted link is no object (reads refuse it too) */
	bool ok = lstat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return ok;
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
store_put_file(struct store *s, const char *tmp, struct hash *out,
	       struct error *err)
{
	char *dst, *dir;
	int rc = 0;

	/* objects are read-only: build/ links to them, and an edit there
	 * must not change what the cache holds */
	if (hash_file(tmp, out, err) < 0 || chmod(tmp, 0444) < 0 ||
	    fsync_path(tmp) < 0) {
		if (!err || !err->msg[0])
			error_set(err, "cannot sync '%s':", tmp);
		unlink(tmp);
		return -1;
	}
	dst = store_object_path(s, out);
	dir = path_dir(dst);
	if (path_exists(dst)) {
		unlink(tmp); /* same name, same bytes: keep the one we have */
	} else if (mkdirs(dir, err) < 0 || rename(tmp, dst) < 0) {
		rc = error_set(err, "cannot move '%s' into the cache:", tmp);
		unlink(tmp);
	} else {
		fsync_dir(dir);
	}
	free(dst);
	free(dir);
	return rc;
}

int
store_put_bytes(struct store *s, const void *data, size_t len,
		struct hash *out, struct error *err)
{
	char *tmp = store_tmp_path(s, ".obj");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	const char *p = data;
	int rc;

	if (fd < 0) {
		error_set(err, "cannot create '%s':", tmp);
		free(tmp);
		return -1;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, "cannot write '%s':", tmp);
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	rc = store_put_file(s, tmp, out, err);
	free(tmp);
	return rc;
}

void
store_clean_tmp(struct store *s)
{
	char *dir = path_dir(s->root);
	DIR *d;
	struct dirent *e;

	/* a killed rewrite of the lock, a stamp, the log or pending leaves
	 * NAME.tmp.PID.XXXXXX beside it: remove those whose process is gone */
	path_clean_stale_tmps(dir);
	path_clean_stale_tmps(s->root);
	free(dir);
	if (!(d = opendir(s->tmp)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = path_join(s->tmp, e->d_name);
		path_remove_tree(p); /* a file, or a killed package's workdir */
		free(p);
	}
	closedir(d);
}
