/*
 * fuzz_pending: the journal of requests in flight, planted or torn. Parse
 * any bytes; what it would rewrite reads back as itself.
 */
#include "cache/pending.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), *again;
	struct pending p;
	struct buf once, twice;

	pending_parse(&p, "pending", text, size);
	buf_init(&once);
	pending_format(&p, &once);
	pending_release(&p);
	again = fuzz_copy((const uint8_t *)once.data, once.len);
	pending_parse(&p, "pending", again, once.len);
	buf_init(&twice);
	pending_format(&p, &twice);
	FUZZ_ASSERT(fuzz_same(&once, &twice));
	pending_release(&p);
	buf_release(&once);
	buf_release(&twice);
	free(again);
	free(text);
	return 0;
}
