/*
 * pack: reproducible ZIP archives through libarchive.
 *
 * This is the only file that includes archive.h and archive_entry.h. It
 * uses them for types and prototypes only: libarchive is loaded with
 * dlopen on the first pack_zip() (base/dl.h), and every call goes through
 * a p_ pointer filled from the table syms[].
 *
 * Invariants:
 * - The same entries (names, order, bytes) give the same ZIP, byte for
 *   byte, whatever the wall clock, the time zone, the locale, or the
 *   owner and timestamps of the input files. Each entry is a regular file
 *   with mode 0644, uid/gid 0, no owner names, and no timestamp of its
 *   own, so libarchive writes the DOS minimum 1980-01-01 00:00 (the
 *   calendar value of PACK_MTIME) and an empty "UT" extra field. Setting
 *   PACK_MTIME itself would not do: libarchive turns mtime into the DOS
 *   field with localtime(), so east of UTC the bytes would change.
 * - Names go in as UTF-8 with hdrcharset=UTF-8, so the locale does not
 *   change them or the UTF-8 flag.
 * - out is replaced atomically: the archive is written to
 *   "<out>.tmp.<pid>.XXXXXX" (path_tmp_create), fsynced and renamed. On
 *   failure the temp file is removed and out is left as it was.
 *
 * docs/package-format.md describes the resulting file.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/pack.h"
#include "base/buf.h"
#include "base/dl.h"
#include "base/path.h"
#include "base/text.h"

/* Bytes read from an input file per archive_write_data() call. */
#define PACK_CHUNK 65536

/* Longest name a ZIP header can hold (16-bit length field). */
#define PACK_NAME_MAX 0xffff

/*
 * Fixed writer options, all spelled out rather than left to libarchive's
 * defaults: deflate at zlib level 6 (compression-level also selects the
 * method, so it must not say 0), names taken as UTF-8 whatever the
 * locale, and no experimental "xl" extra field.
 */
static const char pack_options[] =
	"zip:compression=deflate,zip:compression-level=6,"
	"zip:hdrcharset=UTF-8,zip:!experimental";

static __typeof__(archive_write_new) *p_archive_write_new;
static __typeof__(archive_write_set_format_zip) *p_archive_write_set_format_zip;
static __typeof__(archive_write_set_options) *p_archive_write_set_options;
static __typeof__(archive_write_zip_set_compression_deflate)
	*p_archive_write_zip_set_compression_deflate;
static __typeof__(archive_write_zip_set_compression_store)
	*p_archive_write_zip_set_compression_store;
static __typeof__(archive_write_set_bytes_in_last_block)
	*p_archive_write_set_bytes_in_last_block;
static __typeof__(archive_write_open_fd) *p_archive_write_open_fd;
static __typeof__(archive_write_header) *p_archive_write_header;
static __typeof__(archive_write_data) *p_archive_write_data;
static __typeof__(archive_write_finish_entry) *p_archive_write_finish_entry;
static __typeof__(archive_write_close) *p_archive_write_close;
static __typeof__(archive_write_free) *p_archive_write_free;
static __typeof__(archive_error_string) *p_archive_error_string;
static __typeof__(archive_read_new) *p_archive_read_new;
static __typeof__(archive_read_support_format_zip) *p_archive_read_support_format_zip;
static __typeof__(archive_read_support_format_tar) *p_archive_read_support_format_tar;
static __typeof__(archive_read_open_filename) *p_archive_read_open_filename;
static __typeof__(archive_read_next_header) *p_archive_read_next_header;
static __typeof__(archive_read_data) *p_archive_read_data;
static __typeof__(archive_read_free) *p_archive_read_free;
static __typeof__(archive_entry_pathname) *p_archive_entry_pathname;
static __typeof__(archive_entry_new) *p_archive_entry_new;
static __typeof__(archive_entry_clear) *p_archive_entry_clear;
static __typeof__(archive_entry_free) *p_archive_entry_free;
static __typeof__(archive_entry_set_pathname_utf8)
	*p_archive_entry_set_pathname_utf8;
static __typeof__(archive_entry_set_filetype) *p_archive_entry_set_filetype;
static __typeof__(archive_entry_set_perm) *p_archive_entry_set_perm;
static __typeof__(archive_entry_set_size) *p_archive_entry_set_size;
static __typeof__(archive_entry_unset_mtime) *p_archive_entry_unset_mtime;
static __typeof__(archive_entry_unset_atime) *p_archive_entry_unset_atime;
static __typeof__(archive_entry_unset_ctime) *p_archive_entry_unset_ctime;
static __typeof__(archive_entry_unset_birthtime)
	*p_archive_entry_unset_birthtime;

static const struct dl_sym syms[] = {
	DL_SYM(archive_write_new),
	DL_SYM(archive_write_set_format_zip),
	DL_SYM(archive_write_set_options),
	DL_SYM(archive_write_zip_set_compression_deflate),
	DL_SYM(archive_write_zip_set_compression_store),
	DL_SYM(archive_write_set_bytes_in_last_block),
	DL_SYM(archive_write_open_fd),
	DL_SYM(archive_write_header),
	DL_SYM(archive_write_data),
	DL_SYM(archive_write_finish_entry),
	DL_SYM(archive_write_close),
	DL_SYM(archive_write_free),
	DL_SYM(archive_error_string),
	DL_SYM(archive_read_new),
	DL_SYM(archive_read_support_format_zip),
	DL_SYM(archive_read_support_format_tar),
	DL_SYM(archive_read_open_filename),
	DL_SYM(archive_read_next_header),
	DL_SYM(archive_read_data),
	DL_SYM(archive_read_free),
	DL_SYM(archive_entry_pathname),
	DL_SYM(archive_entry_new),
	DL_SYM(archive_entry_clear),
	DL_SYM(archive_entry_free),
	DL_SYM(archive_entry_set_pathname_utf8),
	DL_SYM(archive_entry_set_filetype),
	DL_SYM(archive_entry_set_perm),
	DL_SYM(archive_entry_set_size),
	DL_SYM(archive_entry_unset_mtime),
	DL_SYM(archive_entry_unset_atime),
	DL_SYM(archive_entry_unset_ctime),
	DL_SYM(archive_entry_unset_birthtime),
	{ 0 },
};

/* The library, loaded once by load_once() under load_ctl. */
static struct dl_lib lib;
static pthread_once_t load_ctl = PTHREAD_ONCE_INIT;
static struct error load_err;
static int load_rc;

/* One archive being written: what the entry writers share. */
struct pack_ctx {
	const char *out;           /* final path, for messages */
	struct archive *a;
	struct archive_entry *ae;  /* reused for every entry */
	char *chunk;               /* PACK_CHUNK bytes for file entries */
};

/* pthread_once() body: the one dl_load() call; the outcome is kept. */
static void
load_once(void)
{
	load_rc = dl_load(&lib, "libarchive.so.13", "libarchive13", syms,
			  &load_err);
}

/* Load libarchive on first use; safe from any thread. 0 or -1 with err. */
static int
pack_load(struct error *err)
{
	pthread_once(&load_ctl, load_once);
	if (load_rc < 0)
		return error_set(err, "%s", load_err.msg);
	return 0;
}

/* libarchive's words for the last error on a; never NULL. */
static const char *
archive_why(struct archive *a)
{
	const char *s = p_archive_error_string(a);

	return s ? s : "unknown libarchive error";
}


/*
 * Check one '/'-separated name: not empty, not absolute, no empty, "."
 * or ".." component, no backslash or control character, valid UTF-8,
 * short enough for a ZIP header. 0, or -1 with err.
 */
static int
check_name(const char *name, struct error *err)
{
	const char *p;

	if (!name || !*name)
		return error_set(err, "empty entry name");
	if (name[0] == '/')
		return error_set(err, "entry name '%s' is absolute", name);
	if (strlen(name) > PACK_NAME_MAX)
		return error_set(err, "entry name '%.40s...' is too long", name);
	for (p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return error_set(err, "entry name '%s' has a "
					 "backslash or control character", name);
	}
	/* well-formed, so that hdrcharset=UTF-8 copies it as is */
	if (!utf8_valid(name, strlen(name)))
		return error_set(err, "entry name '%s' is not UTF-8", name);
	for (p = name; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return error_set(err, "entry name '%s' has an empty, "
					 "'.' or '..' component", name);
		p += n;
		if (*p == '/' && !*++p)
			return error_set(err, "entry name '%s' ends in '/'",
					 name);
	}
	return 0;
}

/* qsort() order for an array of name pointers. */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Check every name, then that no name appears twice (sort a copy of the
 * name pointers, compare neighbours). 0, or -1 with err.
 */
static int
check_names(const struct pack_entry *entries, size_t n, struct error *err)
{
	const char **names;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (check_name(entries[i].name, err) < 0)
			return -1;
		if (!entries[i].path && entries[i].len && !entries[i].data)
			return error_set(err, "entry '%s' has no data",
					 entries[i].name);
	}
	if (n < 2)
		return 0;
	names = xreallocarray(NULL, n, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = entries[i].name;
	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 1; i < n && rc == 0; i++) {
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = error_set(err, "duplicate entry name '%s'",
				       names[i]);
	}
	free(names);
	return rc;
}

/*
 * Write the header of a regular-file entry of size bytes, stored or
 * deflated (libarchive reads the method at each header). Everything
 * that could carry the time, the owner or the input file's mode is set
 * to a constant or left unset. 0, or -1 with err.
 */
static int
begin_entry(struct pack_ctx *c, const char *name, int64_t size, bool stored,
	    struct error *err)
{
	struct archive_entry *ae = c->ae;
	int rc = stored ? p_archive_write_zip_set_compression_store(c->a)
			: p_archive_write_zip_set_compression_deflate(c->a);

	if (rc != ARCHIVE_OK)
		return error_set(err, "cannot add '%s' to '%s': %s", name,
				 c->out, archive_why(c->a));
	p_archive_entry_clear(ae);
	p_archive_entry_set_pathname_utf8(ae, name);
	p_archive_entry_set_filetype(ae, AE_IFREG);
	p_archive_entry_set_perm(ae, 0644);
	p_archive_entry_set_size(ae, size);
	p_archive_entry_unset_mtime(ae);
	p_archive_entry_unset_atime(ae);
	p_archive_entry_unset_ctime(ae);
	p_archive_entry_unset_birthtime(ae);
	if (p_archive_write_header(c->a, ae) != ARCHIVE_OK)
		return error_set(err, "cannot add '%s' to '%s': %s", name,
				 c->out, archive_why(c->a));
	return 0;
}

/* Hand len bytes of entry name to libarchive. 0, or -1 with err. */
static int
put_data(struct pack_ctx *c, const char *name, const void *data, size_t len,
	 struct error *err)
{
	la_ssize_t n;

	if (len == 0)
		return 0;
	n = p_archive_write_data(c->a, data, len);
	if (n < 0 || (size_t)n != len)
		return error_set(err, "cannot add '%s' to '%s': %s", name,
				 c->out, archive_why(c->a));
	return 0;
}

/* Close the current entry (flushes deflate). 0, or -1 with err. */
static int
end_entry(struct pack_ctx *c, const char *name, struct error *err)
{
	if (p_archive_write_finish_entry(c->a) != ARCHIVE_OK)
		return error_set(err, "cannot add '%s' to '%s': %s", name,
				 c->out, archive_why(c->a));
	return 0;
}

/*
 * Copy the file fd (already opened, size bytes by fstat) in PACK_CHUNK
 * pieces. A file that ends early or grows while being read is an error,
 * since the header already promised size bytes. 0, or -1 with err.
 */
static int
copy_file(struct pack_ctx *c, const struct pack_entry *e, int fd,
	  int64_t size, struct error *err)
{
	int64_t total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, c->chunk, PACK_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, "cannot read '%s':", e->path);
		if (n == 0)
			break;
		total += n;
		if (total > size)
			break;
		if (put_data(c, e->name, c->chunk, (size_t)n, err) < 0)
			return -1;
	}
	if (total != size)
		return error_set(err, "'%s' changed size while being packed",
				 e->path);
	return 0;
}

/* Add the entry e whose bytes come from the file e->path. */
static int
add_file(struct pack_ctx *c, const struct pack_entry *e, struct error *err)
{
	struct stat st;
	int fd, rc;

	fd = open(e->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open '%s':", e->path);
	if (fstat(fd, &st) < 0) {
		rc = error_set(err, "cannot stat '%s':", e->path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = error_set(err, "'%s' is not a regular file", e->path);
	} else {
		rc = begin_entry(c, e->name, (int64_t)st.st_size,
					 e->stored, err);
		if (rc == 0)
			rc = copy_file(c, e, fd, (int64_t)st.st_size, err);
	}
	close(fd);
	if (rc == 0)
		rc = end_entry(c, e->name, err);
	return rc;
}

/* Add the entry e whose bytes are e->data, e->len. */
static int
add_memory(struct pack_ctx *c, const struct pack_entry *e,
	   struct error *err)
{
	if (begin_entry(c, e->name, (int64_t)e->len, e->stored, err) < 0 ||
	    put_data(c, e->name, e->data, e->len, err) < 0 ||
	    end_entry(c, e->name, err) < 0)
		return -1;
	return 0;
}

/*
 * Make a ZIP writer on fd with the fixed options. Returns the archive,
 * or NULL with err (the archive, if any, is already freed).
 */
static struct archive *
open_writer(int fd, const char *out, struct error *err)
{
	struct archive *a = p_archive_write_new();

	if (!a) {
		error_set(err, "cannot write '%s': out of memory", out);
		return NULL;
	}
	/* 1: no padding of the last block; a ZIP must end in its EOCD. */
	if (p_archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    p_archive_write_set_options(a, pack_options) != ARCHIVE_OK ||
	    p_archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    p_archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		error_set(err, "cannot write '%s': %s", out, archive_why(a));
		p_archive_write_free(a);
		return NULL;
	}
	return a;
}

/*
 * Write the whole archive to fd (which the caller closes). 0, or -1 with
 * err; on failure what is in fd is garbage.
 *
 * On failure the archive is still closed by archive_write_free(), which
 * may write a central directory into the doomed temp file. That is on
 * purpose: archive_write_fail() would skip it, but then libarchive 3.6
 * leaks its output buffer (libarchive issue #1568).
 */
static int
write_archive(int fd, const char *out, const struct pack_entry *entries,
	      size_t n, struct error *err)
{
	struct pack_ctx c = { .out = out };
	int rc = 0;

	c.a = open_writer(fd, out, err);
	if (!c.a)
		return -1;
	c.ae = p_archive_entry_new();
	c.chunk = xmalloc(PACK_CHUNK);
	if (!c.ae)
		rc = error_set(err, "cannot write '%s': out of memory", out);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = entries[i].path ? add_file(&c, &entries[i], err)
				     : add_memory(&c, &entries[i], err);
	if (rc == 0 && p_archive_write_close(c.a) != ARCHIVE_OK)
		rc = error_set(err, "cannot write '%s': %s", out,
			       archive_why(c.a));
	p_archive_write_free(c.a);
	if (c.ae)
		p_archive_entry_free(c.ae);
	free(c.chunk);
	return rc;
}

int
pack_zip(const char *out, const struct pack_entry *entries, size_t n,
	 struct error *err)
{
	char *tmp;
	int fd, rc;

	if (pack_load(err) < 0 || check_names(entries, n, err) < 0)
		return -1;
	if ((fd = path_tmp_create(out, &tmp, err)) < 0)
		return -1;
	rc = write_archive(fd, out, entries, n, err);
	if (rc == 0 && fsync(fd) < 0)
		rc = error_set(err, "cannot sync '%s':", tmp);
	if (close(fd) < 0 && rc == 0)
		rc = error_set(err, "cannot write '%s':", tmp);
	rc = path_rename_atomic(tmp, out, rc == 0, err);
	free(tmp);
	return rc;
}

/* Where an entry read back goes: a buffer (capped by its max), or a
 * file (fd >= 0), chunk by chunk (a LoRA may be gigabytes). */
struct sink {
	struct buf *b;
	int fd;
};

/* The bytes of the entry being read into to. */
static int
read_entry_data(struct archive *a, const char *zip, const char *name,
		struct sink *to, struct error *err)
{
	char chunk[16384];
	la_ssize_t got;

	while ((got = p_archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (to->b && buf_add(to->b, chunk, (size_t)got) < 0)
			return error_set(err, "'%s' in %s is too big", name, zip);
		if (!to->b && write_all(to->fd, chunk, (size_t)got) < 0)
			return error_set(err, "cannot write '%s' of %s:", name, zip);
	}
	if (got < 0)
		return error_set(err, "cannot read '%s' in %s: %s", name, zip,
				 archive_why(a));
	return 0;
}

/* Is entry path the one asked for: name itself, or (suffix) a name
 * ending in name? */
static bool
entry_matches(const char *path, const char *name, bool suffix)
{
	size_t lp = path ? strlen(path) : 0, ln = strlen(name);

	if (!suffix)
		return path && !strcmp(path, name);
	return lp > ln && !strcmp(path + lp - ln, name);
}

/* The first entry of the ZIP or tar at archive matching name, into to.
 * 0; 1 when none; -1 with err. */
static int
read_matching(const char *archive, const char *name, bool suffix,
	      struct sink *to, struct error *err)
{
	struct archive *a;
	struct archive_entry *ae;
	int rc = 1, r;

	if (pack_load(err) < 0)
		return -1;
	if (!(a = p_archive_read_new()))
		return error_set(err, "cannot read %s: out of memory", archive);
	p_archive_read_support_format_zip(a);
	p_archive_read_support_format_tar(a);
	if (p_archive_read_open_filename(a, archive, PACK_CHUNK) != ARCHIVE_OK) {
		rc = error_set(err, "cannot read %s: %s", archive, archive_why(a));
		p_archive_read_free(a);
		return rc;
	}
	while (rc == 1 && (r = p_archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *path = p_archive_entry_pathname(ae);

		if (entry_matches(path, name, suffix))
			rc = read_entry_data(a, archive, path, to, err);
	}
	if (rc == 1 && r != ARCHIVE_EOF)
		rc = error_set(err, "cannot read %s: %s", archive, archive_why(a));
	p_archive_read_free(a);
	return rc;
}

int
pack_read_entry(const char *zip, const char *name, struct buf *out,
		struct error *err)
{
	struct sink to = { out, -1 };

	return read_matching(zip, name, false, &to, err);
}

int
pack_extract_suffix(const char *archive, const char *suffix, const char *out,
		    struct error *err)
{
	struct sink to = { NULL, open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				     0644) };
	int rc;

	if (to.fd < 0)
		return error_set(err, "cannot create %s:", out);
	rc = read_matching(archive, suffix, true, &to, err);
	if (close(to.fd) < 0 && rc == 0)
		rc = error_set(err, "cannot write %s:", out);
	if (rc != 0)
		unlink(out);
	return rc;
}
