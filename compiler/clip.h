#ifndef LM_CLIP_H
#define LM_CLIP_H
/*
 * clip: tokens of a text as CLIP's tokenizer would count them, estimated
 * to err high.
 *
 * SDXL reads a caption with two CLIP text encoders (ViT-L and OpenCLIP
 * ViT-bigG); both use OpenAI CLIP's byte-level BPE and read 77 tokens,
 * the start and end tokens included, and cut the rest. Flux's CLIP-L does
 * too. The text is split by CLIP's own pre-tokenisation pattern; the BPE
 * step is estimated to err high (CLIP's vocabulary is not part of
 * loramake): docs/quality.md says how, and how close it comes.
 */
#include <stddef.h>
#include <stdint.h>

#define CLIP_WINDOW 77 /* tokens a CLIP text encoder reads */

/*
 * CLIP tokens of text, with the start and end tokens ("" is 2). text is
 * UTF-8; invalid bytes count one token each. Thread-safe.
 */
size_t clip_tokens(const char *text);

#endif
