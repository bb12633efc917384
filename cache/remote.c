/*
 * remote: the team cache's action record (remote.h): a minimal Bazel
 * ActionResult around the action line.
 */
#include <stdlib.h>
#include <string.h>

#include "base/pbwire.h"
#include "record.h"
#include "remote.h"

#define HEADER_PREFIX "loramake action"
#define HEADER_LINE HEADER_PREFIX " v1"

/* Field numbers of build.bazel.remote.execution.v2 (remote_execution.proto). */
enum {
	AR_OUTPUT_FILES = 2,         /* ActionResult: repeated OutputFile */
	AR_STDOUT_RAW = 5,           /* ActionResult: bytes */
	FILE_PATH = 1,               /* OutputFile: string */
	FILE_DIGEST = 2,             /* OutputFile: Digest */
	DIGEST_HASH = 1,             /* Digest: string, hex */
	DIGEST_SIZE = 2,             /* Digest: int64 */
};

void
remote_ac_name(const struct hash *key, char *out)
{
	char hex[HASH_HEX_LEN + 1];
	struct sha256 h;

	hash_hex(key, hex);
	h = sha256_bytes(hex, HASH_HEX_LEN);
	sha256_hex(&h, out);
}

static void
format_output_file(const struct hash *out, const struct remote_object *obj,
		   struct buf *b)
{
	char name[HASH_HEX_LEN + 1], cas[SHA256_HEX_LEN + 1];
	struct buf digest, file;

	hash_hex(out, name);
	sha256_hex(&obj->cas, cas);
	buf_init(&digest);
	pb_put_len_field(&digest, DIGEST_HASH, cas, SHA256_HEX_LEN);
	pb_put_varint_field(&digest, DIGEST_SIZE, obj->size);
	buf_init(&file);
	pb_put_len_field(&file, FILE_PATH, name, HASH_HEX_LEN);
	pb_put_len_field(&file, FILE_DIGEST, digest.data, digest.len);
	pb_put_len_field(b, AR_OUTPUT_FILES, file.data, file.len);
	buf_release(&file);
	buf_release(&digest);
}

void
remote_record_format(const struct action *rec, const struct remote_object *objs,
		     struct buf *b)
{
	struct buf text;

	for (size_t i = 0; i < rec->nouts; i++)
		format_output_file(&rec->outs[i], &objs[i], b);
	buf_init(&text);
	buf_adds(&text, HEADER_LINE "\n");
	actions_format_record(rec, &text);
	pb_put_len_field(b, AR_STDOUT_RAW, text.data, text.len);
	buf_release(&text);
}

/* ---- reading ---- */

/* What the message holds, before the text is read. */
struct fields {
	const uint8_t *text;         /* stdout_raw */
	size_t text_len;
	bool has_text;
	struct pb_field files[ACTIONS_MAX_OUTS];
	size_t nfiles;
};

/* The fields of the ActionResult the record uses; the rest skipped. */
static int
read_fields(const void *data, size_t len, struct fields *fs, struct error *err)
{
	struct pb_reader r;
	struct pb_field f;
	int more;

	pb_reader_init(&r, data, len);
	while ((more = pb_next(&r, &f)) > 0) {
		if (f.num != AR_OUTPUT_FILES && f.num != AR_STDOUT_RAW)
			continue;
		if (f.wire != PB_LEN)
			return error_set(err, "its field %u is not length-delimited", f.num);
		if (f.num == AR_STDOUT_RAW) {
			if (fs->has_text)
				return error_set(err, "it holds two texts");
			fs->has_text = true;
			fs->text = f.data;
			fs->text_len = f.len;
		} else if (fs->nfiles == ACTIONS_MAX_OUTS) {
			return error_set(err, "it names more than %d objects", ACTIONS_MAX_OUTS);
		} else {
			fs->files[fs->nfiles++] = f;
		}
	}
	if (more < 0)
		return error_set(err, "not a loramake action record (not a well-formed "
				 "ActionResult)");
	if (!fs->has_text)
		return error_set(err, "not a loramake action record (no text)");
	return 0;
}

/* Digest { hash, size_bytes } into *obj. */
static int
read_digest(const struct pb_field *d, struct remote_object *obj)
{
	struct pb_reader r;
	struct pb_field f;
	bool has_hash = false;
	int more;

	pb_reader_init(&r, d->data, d->len);
	while ((more = pb_next(&r, &f)) > 0) {
		if (f.num == DIGEST_HASH && f.wire == PB_LEN &&
		    sha256_parse((const char *)f.data, f.len, &obj->cas))
			has_hash = true;
		else if (f.num == DIGEST_HASH)
			return -1;
		else if (f.num == DIGEST_SIZE && f.wire == PB_VARINT)
			obj->size = f.v;
		else if (f.num == DIGEST_SIZE)
			return -1;
	}
	return more == 0 && has_hash && obj->size <= REMOTE_OBJECT_MAX ? 0 : -1;
}

/* OutputFile { path, digest }: the object out, named on the wire. */
static int
read_output_file(const struct pb_field *file, const struct hash *out,
		 struct remote_object *obj, struct error *err)
{
	char name[HASH_HEX_LEN + 1];
	struct pb_reader r;
	struct pb_field f;
	bool path_ok = false, digest_ok = false;
	int more;

	hash_hex(out, name);
	pb_reader_init(&r, file->data, file->len);
	while ((more = pb_next(&r, &f)) > 0) {
		if (f.num == FILE_PATH)
			path_ok = f.wire == PB_LEN && f.len == HASH_HEX_LEN &&
				  !memcmp(f.data, name, HASH_HEX_LEN);
		else if (f.num == FILE_DIGEST)
			digest_ok = f.wire == PB_LEN && read_digest(&f, obj) == 0;
	}
	if (more < 0 || !path_ok)
		return error_set(err, "its output file for object %s names another",
				 name);
	if (!digest_ok)
		return error_set(err, "the digest of object %s is not a SHA-256 and a "
				 "size of at most %u bytes", name, REMOTE_OBJECT_MAX);
	return 0;
}

/* The two lines of the text, or -1 with err. Cuts copy in place. */
static int
split_text(char *copy, size_t len, char **record, struct error *err)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	record_reader_init(&r, copy, len);
	kind = record_next(&r, &line, NULL);
	if (kind != RECORD_LINE || strcmp(line, HEADER_LINE) != 0) {
		unsigned v = kind == RECORD_LINE ? record_version(line, HEADER_PREFIX) : 0;

		if (v && v != REMOTE_RECORD_VERSION)
			return error_set(err, "a record of another version (v%u; this "
					 "loramake reads v%d)", v, REMOTE_RECORD_VERSION);
		return error_set(err, "not a loramake action record (its first line "
				 "is not '" HEADER_LINE "')");
	}
	kind = record_next(&r, record, NULL);
	if (kind == RECORD_END || kind == RECORD_TORN)
		return error_set(err, "the record is cut short");
	if (kind == RECORD_NUL)
		return error_set(err, "the record holds a NUL byte");
	if (record_next(&r, &line, NULL) != RECORD_END)
		return error_set(err, "the record has more than one action line");
	return 0;
}

/* The text: the action of key, or NULL with err. */
static struct action *
read_text(const uint8_t *text, size_t len, const struct hash *key,
	  struct error *err)
{
	struct action *rec = NULL;
	char *copy, *line;

	if (memchr(text, '\0', len)) {
		error_set(err, "the record holds a NUL byte");
		return NULL;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (split_text(copy, len, &line, err) == 0) {
		if (!(rec = actions_parse_record(line)))
			error_set(err, "its action line is not a whole, valid record");
		else if (!hash_eq(&rec->key, key)) {
			error_set(err, "it is the record of another key (%s)", rec->keyhex);
			actions_free_record(rec);
			rec = NULL;
		}
	}
	free(copy);
	return rec;
}

struct remote_record *
remote_record_parse(const void *data, size_t len, const struct hash *key,
		    struct error *err)
{
	struct fields *fs;
	struct remote_record *r = NULL;
	struct action *rec = NULL;

	if (len > REMOTE_RECORD_MAX) {
		error_set(err, "the record is %zu bytes, more than %d", len,
			  REMOTE_RECORD_MAX);
		return NULL;
	}
	fs = xcalloc(1, sizeof(*fs));
	if (read_fields(data, len, fs, err) < 0 ||
	    !(rec = read_text(fs->text, fs->text_len, key, err)))
		goto out;
	if (fs->nfiles != rec->nouts) {
		error_set(err, "it has %zu output files for %zu objects", fs->nfiles,
			  rec->nouts);
		goto out;
	}
	r = xcalloc(1, sizeof(*r));
	r->action = rec;
	r->objs = xcalloc(rec->nouts, sizeof(*r->objs));
	rec = NULL;
	for (size_t i = 0; i < r->action->nouts; i++)
		if (read_output_file(&fs->files[i], &r->action->outs[i], &r->objs[i],
				     err) < 0) {
			remote_record_free(r);
			r = NULL;
			break;
		}
out:
	if (rec)
		actions_free_record(rec);
	free(fs);
	return r;
}

void
remote_record_free(struct remote_record *r)
{
	if (!r)
		return;
	actions_free_record(r->action);
	free(r->objs);
	free(r);
}
