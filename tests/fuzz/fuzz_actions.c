/*
 * fuzz_actions: the action log, as crashes and disks leave it. Parse any
 * bytes; the compacted text must read back as itself, record for record.
 */
#include "cache/actions.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), *again;
	struct actions a;
	struct buf once, twice;

	actions_parse(&a, "actions", text, size);
	buf_init(&once);
	actions_format(&a, &once);
	actions_release(&a);
	again = fuzz_copy((const uint8_t *)once.data, once.len);
	actions_parse(&a, "actions", again, once.len);
	FUZZ_ASSERT(!a.rewrite && !a.torn);
	buf_init(&twice);
	actions_format(&a, &twice);
	FUZZ_ASSERT(fuzz_same(&once, &twice));
	actions_release(&a);
	buf_release(&once);
	buf_release(&twice);
	free(again);
	free(text);
	return 0;
}
