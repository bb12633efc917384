/*
 * path: path helpers and atomic file writes.
 */
#define _GNU_SOURCE /* getrandom, fdopendir, O_NOFOLLOW */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
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

/*
 * ---- the walk ----
 *
 * Every path below the root is opened one component at a time from a
 * folder descriptor, with O_NOFOLLOW: no symlink below the root is ever
 * followed, so ".." can be resolved by spelling, and one that climbs
 * above the root is refused before anything is opened.
 */

/* The recipe's folder once path_confine() named it; NULL: not confined. */
static char *root;

void
path_confine(const char *dir)
{
	size_t n;

	free(root);
	root = NULL;
	if (!dir)
		return;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	root = xstrndup(dir, n);
}

/* path relative to the root ("" for the root), or NULL if not below it. */
static const char *
below_root(const char *path)
{
	size_t n = strlen(root);

	if (!strcmp(root, "."))
		return path[0] == '/' ? NULL : path;
	if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n + (path[n] == '/');
}

/* A path split into the folders to walk and the last component. */
struct walk {
	int fd;                  /* the folder that holds leaf */
	char leaf[NAME_MAX + 1]; /* "" when the walk opened a folder whole */
};

/*
 * The error for name in dfd that could not be opened (errno set): a link
 * or a non-folder is named as shown, anything else as target (what the
 * caller opens); errno is left ELOOP for a link, ENOTDIR, or open's.
 */
static int
refuse_as(int dfd, const char *name, const char *shown, const char *target,
	  struct error *err)
{
	int e = errno;
	struct stat st;
	bool seen = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;

	if (seen && S_ISLNK(st.st_mode)) {
		error_set(err, "'%s' is a symbolic link; loramake follows no link "
			  "inside the recipe's folder", shown);
		errno = ELOOP;
		return -1;
	}
	if (e == ENOTDIR || (e == ELOOP && seen && !S_ISDIR(st.st_mode)))
		e = ENOTDIR;
	errno = e;
	if (e == ENOTDIR)
		error_set(err, "'%s' is not a folder", shown);
	else
		error_set(err, "cannot open '%s':", target);
	errno = e;
	return -1;
}

static int
refuse(int dfd, const char *name, const char *shown, struct error *err)
{
	return refuse_as(dfd, name, shown, shown, err);
}

/* Open folder name in dfd (making it with create); shown names it, target
 * what the walk is for. */
static int
step(int dfd, const char *name, bool create, bool follow, const char *shown,
     const char *target, struct error *err)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
	int fd = openat(dfd, name, flags);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dfd, name, 0777) < 0 && errno != EEXIST)
			return error_set(err, "cannot create '%s':", shown);
		fd = openat(dfd, name, flags);
	}
	return fd < 0 ? refuse_as(dfd, name, shown, target, err) : fd;
}

/*
 * Split rel into components, resolving "." and ".." by spelling. Returns
 * how many (into comp, pointers into the writable copy buf), or -1 when
 * ".." climbs above the start (unless up: then it stays a component) or
 * there are more than max.
 */
static int
split(char *buf, char **comp, int max, bool up)
{
	int n = 0, nup = 0;
	char *save;

	for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..") && n > nup) {
			n--;
		} else if (!strcmp(p, "..") && !up) {
			return -1;
		} else if (n == max) {
			return -1;
		} else {
			nup += n == nup && !strcmp(p, "..");
			comp[n++] = p;
		}
	}
	return n;
}

#define WALK_MAX 64 /* components below the root; deeper is refused */

/*
 * Walk rel below base: every component but the last (all of them with
 * whole) is opened as a folder without following links (follow: folders
 * may be links; the last component is still checked by its opener).
 * target names the whole path in messages. Fills w; returns 0, or -1
 * with err and errno.
 */
static int
walk_from(const char *base, const char *rel, const char *target, bool create,
	  bool whole, bool follow, struct walk *w, struct error *err)
{
	char *buf = xstrdup(rel), *comp[WALK_MAX];
	int n = split(buf, comp, WALK_MAX, follow), ndirs, fd;
	struct buf shown;

	w->fd = -1;
	w->leaf[0] = '\0';
	if (n < 0 || (n == 0 && !whole)) {
		free(buf);
		errno = EINVAL;
		return error_set(err, "'%s' leads outside the recipe's folder", rel);
	}
	if ((fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(buf);
		return error_set(err, "cannot open '%s':", base);
	}
	buf_init(&shown);
	if (strcmp(base, "."))
		buf_adds(&shown, base);
	ndirs = whole ? n : n - 1;
	for (int i = 0; i < ndirs && fd >= 0; i++) {
		int next;

		buf_addf(&shown, "%s%s", shown.len && shown.data[shown.len - 1] != '/'
				 ? "/" : "", comp[i]);
		next = step(fd, comp[i], create, follow, shown.data, target, err);
		close(fd);
		fd = next;
	}
	if (fd >= 0 && !whole && strlen(comp[n - 1]) < sizeof(w->leaf))
		memcpy(w->leaf, comp[n - 1], strlen(comp[n - 1]) + 1);
	else if (fd >= 0 && !whole) {
		close(fd);
		fd = -1;
		errno = ENAMETOOLONG;
		error_set(err, "cannot open '%s':", rel);
	}
	buf_release(&shown);
	free(buf);
	w->fd = fd;
	return fd < 0 ? -1 : 0;
}

/* Walk path: from the root when confined (anything outside is refused),
 * else trusting the folders and checking only the last component. */
static int
walk(const char *path, bool create, bool whole, struct walk *w,
     struct error *err)
{
	const char *rel;

	if (root && !(rel = below_root(path))) {
		errno = EACCES;
		w->fd = -1;
		return error_set(err, "'%s' is outside the recipe's folder '%s'",
				 path, root);
	}
	if (root)
		return walk_from(root, rel, path, create, whole, false, w, err);
	return walk_from(path[0] == '/' ? "/" : ".", path, path, create, whole,
			 true, w, err);
}

int
path_append(const char *path, const void *data, size_t len, bool sync,
	    struct error *err)
{
	int fd = path_open(path, O_WRONLY | O_APPEND, 0, err);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len || (sync && fdatasync(fd) < 0))
		rc = error_set(err, "cannot append to '%s':", path);
	close(fd);
	return rc;
}

int
path_open(const char *path, int flags, mode_t mode, struct error *err)
{
	struct walk w;
	struct stat st;
	int fd;

	if (walk(path, flags & O_CREAT, false, &w, err) < 0)
		return -1;
	/* O_NONBLOCK: a planted FIFO must not hang the open */
	fd = openat(w.fd, w.leaf, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0) {
		refuse(w.fd, w.leaf, path, err);
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EINVAL;
		error_set(err, "'%s' is not a regular file", path);
	} else {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	}
	if (fd < 0) {
		int e = errno;

		close(w.fd);
		errno = e;
		return -1;
	}
	close(w.fd);
	return fd;
}

int
path_lstat(const char *path, struct stat *st, struct error *err)
{
	struct walk w;
	int rc;

	if (walk(path, false, false, &w, err) < 0)
		return -1;
	if ((rc = fstatat(w.fd, w.leaf, st, AT_SYMLINK_NOFOLLOW)) < 0) {
		int e = errno;

		error_set(err, "cannot open '%s':", path);
		errno = e;
	}
	close(w.fd);
	return rc;
}

char *
path_normal(const char *rel)
{
	char *buf = xstrdup(rel), *comp[WALK_MAX];
	int n = rel[0] == '/' ? -1 : split(buf, comp, WALK_MAX, false);
	struct buf out;

	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf_init(&out);
	for (int i = 0; i < n; i++)
		buf_addf(&out, "%s%s", i ? "/" : "", comp[i]);
	free(buf);
	return buf_detach(&out);
}

bool
path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return !n || (!strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/'));
}

int
path_open_dir(const char *path, bool create, struct error *err)
{
	struct walk w;

	return walk(path, create, true, &w, err) < 0 ? -1 : w.fd;
}

char *
path_resolve_inside(const char *dir, const char *rel, struct error *err)
{
	struct walk w;
	char *joined;
	int fd;

	if (!path_is_contained(rel)) {
		error_set(err, "'%s' is outside the recipe's folder", rel);
		return NULL;
	}
	joined = path_join(dir, rel);
	if (walk_from(dir, rel, rel, false, false, false, &w, err) < 0) {
		free(joined);
		return NULL;
	}
	fd = openat(w.fd, w.leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		refuse(w.fd, w.leaf, rel, err);
	close(w.fd);
	if (fd < 0) {
		free(joined);
		return NULL;
	}
	close(fd);
	return joined;
}

int
mkdirs(const char *path, struct error *err)
{
	int fd = path_open_dir(path, true, err);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void
fsync_dir(const char *dir)
{
	int fd = path_open_dir(dir, false, NULL);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* ---- temp files: NAME.tmp.PID.XXXXXX beside NAME ---- */

#define TMP_RANDOM 6

/* "LEAF.tmp.PID.XXXXXX" with an unpredictable tail, into out. */
static void
tmp_name(char *out, size_t size, const char *leaf)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[TMP_RANDOM];
	char tail[TMP_RANDOM + 1];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ (int)now_ms());
	for (size_t i = 0; i < TMP_RANDOM; i++)
		tail[i] = set[r[i] % (sizeof(set) - 1)];
	tail[TMP_RANDOM] = '\0';
	snprintf(out, size, "%s.tmp.%ld.%s", leaf, (long)getpid(), tail);
}

/* The path of name in the folder of path. Caller frees. */
static char *
beside(const char *path, const char *name)
{
	char *dir = path_dir(path), *p = path_join(dir, name);

	free(dir);
	return p;
}

/* Make a fresh temp beside path: a file (fd returned) or a folder (0). */
static int
tmp_make(const char *path, bool folder, char **tmp, struct error *err)
{
	struct walk w;
	char name[NAME_MAX + 64];
	int fd = -1;

	*tmp = NULL;
	if (walk(path, true, false, &w, err) < 0)
		return -1;
	for (int tries = 0; tries < 100; tries++) {
		tmp_name(name, sizeof(name), w.leaf);
		fd = folder ? mkdirat(w.fd, name, 0777)
			    : openat(w.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				     O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	close(w.fd);
	if (fd < 0) {
		*tmp = beside(path, name);
		error_set(err, "cannot create '%s':", *tmp);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	*tmp = beside(path, name);
	return fd;
}

int
path_tmp_create(const char *path, char **tmp, struct error *err)
{
	return tmp_make(path, false, tmp, err);
}

char *
path_tmp_mkdir(const char *path, struct error *err)
{
	char *tmp;

	return tmp_make(path, true, &tmp, err) < 0 ? NULL : tmp;
}

/*
 * Did loramake before 0.2 write name as "NAME.tmp.PID" (no random tail)?
 * Only for the state files it rewrote that way: n is the length of NAME.
 */
static bool
legacy_tmp_of(const char *name, size_t n)
{
	static const char *const whole[] = { "actions", "pending" };

	for (size_t i = 0; i < LM_ARRAY_LEN(whole); i++)
		if (n == strlen(whole[i]) && !strncmp(name, whole[i], n))
			return true;
	return (n > 5 && !strncmp(name + n - 5, ".lock", 5)) || !strncmp(name, "stamp-", 6);
}

bool
path_is_stale_tmp(const char *name)
{
	const char *t = strstr(name, ".tmp."), *next;
	char *end;
	long pid;

	for (; t && (next = strstr(t + 1, ".tmp.")); t = next)
		;
	if (!t || t == name)
		return false;
	errno = 0;
	pid = strtol(t + 5, &end, 10);
	if (errno || pid <= 0 || end == t + 5)
		return false;
	if (*end == '\0' && !legacy_tmp_of(name, (size_t)(t - name)))
		return false;
	if (*end && (*end != '.' || strlen(end + 1) != TMP_RANDOM))
		return false;
	for (const char *p = *end ? end + 1 : end; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int remove_at(int dfd, const char *name);

int
path_clean_stale_tmps(const char *dir)
{
	int fd = path_open_dir(dir, false, NULL), n = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)))
		if (path_is_stale_tmp(e->d_name) && remove_at(dirfd(d), e->d_name) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- whole files ---- */

int
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
	char *tmp;
	bool ok;
	int rc, fd = path_tmp_create(path, &tmp, err);

	if (fd < 0)
		return -1;
	ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
	if (!ok)
		error_set(err, "cannot write '%s':", tmp);
	if (close(fd) < 0 && ok)
		ok = !error_set(err, "cannot write '%s':", tmp);
	rc = path_rename_atomic(tmp, path, ok, err);
	free(tmp);
	return rc;
}

/* Copy all of in to out from their current offsets: copy_file_range,
 * else (another filesystem, an old kernel) read and write. */
static int
copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;
	bool kernel = true;

	for (;;) {
		n = kernel ? copy_file_range(in, NULL, out, NULL, 1 << 30, 0) : -1;
		if (n < 0 && kernel && (errno == EXDEV || errno == ENOSYS ||
					errno == EINVAL || errno == EOPNOTSUPP)) {
			kernel = false;
			continue;
		}
		if (!kernel && (n = read(in, buf, sizeof(buf))) > 0 &&
		    write_all(out, buf, (size_t)n) < 0)
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
	}
}

int
copy_file_atomic(const char *src, const char *dst, struct error *err)
{
	int in = path_open(src, O_RDONLY, 0, err), out;
	char *tmp;
	bool ok;
	int rc;

	if (in < 0)
		return -1;
	if ((out = path_tmp_create(dst, &tmp, err)) < 0) {
		close(in);
		return -1;
	}
	ok = copy_fd(in, out) == 0 && fsync(out) == 0;
	if (!ok)
		error_set(err, "cannot copy '%s' to '%s':", src, tmp);
	close(in);
	if (close(out) < 0 && ok)
		ok = !error_set(err, "cannot write '%s':", tmp);
	rc = path_rename_atomic(tmp, dst, ok, err);
	free(tmp);
	return rc;
}

int
path_link(const char *src, const char *dst, struct error *err)
{
	struct walk from, to;
	struct stat st;
	int rc = -1, e;

	if (walk(src, false, false, &from, err) < 0)
		return -1;
	if (fstatat(from.fd, from.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		error_set(err, "cannot open '%s':", src);
	} else if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		error_set(err, "'%s' is not a regular file", src);
	} else if (walk(dst, true, false, &to, err) == 0) {
		/* flags 0: a link at src is linked as itself, never followed */
		if ((rc = linkat(from.fd, from.leaf, to.fd, to.leaf, 0)) < 0)
			error_set(err, "cannot link '%s' to '%s':", dst, src);
		e = errno;
		close(to.fd);
		errno = e;
	}
	e = errno;
	close(from.fd);
	errno = e;
	return rc;
}

int
write_file_new(const char *path, const void *data, size_t len,
	       struct error *err)
{
	int fd = path_open(path, O_WRONLY | O_CREAT | O_EXCL, 0644, err);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0)
		rc = error_set(err, "cannot write '%s':", path);
	if (close(fd) < 0 && rc == 0)
		rc = error_set(err, "cannot write '%s':", path);
	if (rc < 0)
		unlink(path);
	return rc;
}

int
path_rename_atomic(const char *tmp, const char *path, bool ok,
		   struct error *err)
{
	const char *tleaf = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
	struct walk w;

	if (walk(path, false, false, &w, ok ? err : NULL) < 0) {
		unlink(tmp);
		return -1;
	}
	if (ok && renameat(w.fd, tleaf, w.fd, w.leaf) < 0)
		ok = !error_set(err, "cannot rename '%s' to '%s':", tmp, path);
	if (!ok) {
		remove_at(w.fd, tleaf);
		close(w.fd);
		return -1;
	}
	fsync(w.fd);
	close(w.fd);
	return 0;
}

int
read_chunks(const char *path, void (*fn)(void *ctx, const void *data, size_t len),
	    void *ctx, struct error *err)
{
	int fd = path_open(path, O_RDONLY, 0, err);
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
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

	return lstat(path, &st) == 0;
}

/* rm -r name in dfd, never following a link. */
static int
remove_at(int dfd, const char *name)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    remove_at(dirfd(d), e->d_name) < 0)
			rc = -1;
	closedir(d);
	return rc < 0 ? -1 : unlinkat(dfd, name, AT_REMOVEDIR);
}

int
path_remove_tree(const char *path)
{
	struct walk w;
	int rc;

	if (walk(path, false, false, &w, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	rc = remove_at(w.fd, w.leaf);
	close(w.fd);
	return rc;
}
