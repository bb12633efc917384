/*
 * safetensors: the frame of a LoRA file (see safetensors.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "safetensors.h"

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int
safetensors_check_bytes(const unsigned char *head, size_t n, uint64_t size,
			struct error *err)
{
	uint64_t len;
	size_t a, b;

	if (n < 8 || size < 8)
		return error_set(err, "not a safetensors file: %llu bytes, fewer "
				 "than its 8-byte header length",
				 (unsigned long long)size);
	len = le64(head);
	if (len < 2 || len > SAFETENSORS_MAX_HEADER || len > size - 8)
		return error_set(err, "not a safetensors file: its header length "
				 "%llu does not fit its %llu bytes",
				 (unsigned long long)len, (unsigned long long)size);
	if (n < 8 + len)
		return error_set(err, "safetensors header cut short");
	a = 8;
	b = 8 + (size_t)len;
	while (a < b && head[a] == ' ')
		a++;
	while (b > a && head[b - 1] == ' ')
		b--;
	if (b - a < 2 || head[a] != '{' || head[b - 1] != '}')
		return error_set(err, "not a safetensors file: its header is not "
				 "a JSON object");
	return 0;
}

int
safetensors_check_file(const char *path, struct error *err)
{
	unsigned char len8[8], *head = NULL;
	struct stat st;
	uint64_t len;
	size_t want;
	ssize_t got;
	int fd = path_open(path, O_RDONLY, 0, err), rc;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		rc = error_set(err, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	got = pread(fd, len8, sizeof(len8), 0);
	if (got < (ssize_t)sizeof(len8)) {
		rc = safetensors_check_bytes(len8, got > 0 ? (size_t)got : 0,
					     (uint64_t)st.st_size, err);
		goto out;
	}
	len = le64(len8);
	want = len <= SAFETENSORS_MAX_HEADER && len <= (uint64_t)st.st_size - 8
		       ? 8 + (size_t)len : 8;
	head = xmalloc(want);
	got = pread(fd, head, want, 0);
	rc = safetensors_check_bytes(head, got > 0 ? (size_t)got : 0,
				     (uint64_t)st.st_size, err);
out:
	free(head);
	close(fd);
	return rc;
}
