/*
 * fuzz_stamp: the no-op stamp decides "nothing to do", so a stamp that is
 * not whole must never hold. Check any bytes against a fixed head; when
 * it holds, the text must end with its "end N" line.
 */
#include "cache/stamp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the seeds start with: the head a build would compute. */
static const char head[] = "# loramake stamp v2\nversion loramake-key/1 0.1.0\n"
	"options\nrecipe 00000000000000000000000000000000\nlock -\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), *say = NULL;

	if (stamp_check(text, size, head, sizeof(head) - 1, &say)) {
		/* whole: it ends in "end N\n" */
		FUZZ_ASSERT(size >= 6 && data[size - 1] == '\n');
		free(say);
	}
	free(text);
	return 0;
}
