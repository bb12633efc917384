/*
 * path: path helpers and atomic file writes.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#define _DEFAULT_SOURCE   /* realpath, fsync with _XOPEN_SOURCE */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "path.h"

char *
path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (b[0] == '/' || n == 0)
		return xstrdup(b);
	if (strcmp(a, ".") == 0)
		return xstrdup(b);
	return xasprintf("%s%s%s", a, a[n - 1] == '/' ? "" : "/", b);
}

char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

bool
path_is_contained(const char *rel)
{
	int depth = 0;
	const char *p = rel;

	if (rel[0] == '/' || rel[0] == '\0')
		return false;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

char *
path_resolve_inside(const char *dir, const char *rel, struct error *err)
{
	char base[PATH_MAX], real[PATH_MAX];
	char *joined;
	size_t n;

	if (!path_is_contained(rel)) {
		error_set(err, "'%s' is outside the recipe's folder", rel);
		return NULL;
	}
	if (!realpath(dir, base)) {
		error_set(err, "cannot resolve '%s':", dir);
		return NULL;
	}
	joined = path_join(dir, rel);
	if (!realpath(joined, real)) {
		error_set(err, "cannot open '%s':", rel);
		free(joined);
		return NULL;
	}
	n = strlen(base);
	if (strncmp(real, base, n) != 0 || (real[n] != '/' && real[n] != '\0')) {
		error_set(err, "'%s' leads outside the recipe's folder", rel);
		free(joined);
		return NULL;
	}
	return joined;
}

int
mkdirs(const char *path, struct error *err)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			error_set(err, "cannot create '%s':", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0777) < 0 && errno != EEXIST) {
		error_set(err, "cannot create '%s':", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len,
		  struct error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0) {
		error_set(err, "cannot create '%s':", tmp);
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error_set(err, "cannot write '%s':", tmp);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	rc = path_rename_atomic(tmp, path, true, err);
	free(tmp);
	return rc;
}

int
path_rename_atomic(const char *tmp, const char *path, bool ok,
		   struct error *err)
{
	char *dir;

	if (ok && rename(tmp, path) < 0)
		ok = !error_set(err, "cannot rename '%s' to '%s':", tmp, path);
	if (!ok) {
		unlink(tmp);
		return -1;
	}
	dir = path_dir(path);
	fsync_dir(dir);
	free(dir);
	return 0;
}

int
read_chunks(const char *path, void (*fn)(void *ctx, const void *data, size_t len),
	    void *ctx, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return error_set(err, "cannot open '%s':", path);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, "cannot read '%s':", path);
			close(fd);
			return -1;
		}
		fn(ctx, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

static void
add_to_buf(void *ctx, const void *data, size_t len)
{
	buf_add(ctx, data, len);
}

int
read_file(const char *path, char **out, size_t *len, struct error *err)
{
	struct buf b;

	buf_init(&b);
	if (read_chunks(path, add_to_buf, &b, err) < 0) {
		buf_release(&b);
		return -1;
	}
	if (len)
		*len = b.len;
	*out = buf_detach(&b);
	return 0;
}

bool
path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

int
path_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
