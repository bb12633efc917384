/*
 * review_page: the review page (cli/review/page.html: its HTML, CSS and
 * JavaScript in one file, nothing from elsewhere), built into the binary
 * as bytes, so that `loramake review` works offline and installed alone.
 * The Makefile rebuilds this object when the page changes.
 */
__asm__(".section .rodata\n"
	".global review_page\n"
	".type review_page, @object\n"
	"review_page:\n"
	".incbin \"cli/review/page.html\"\n"
	".global review_page_end\n"
	".type review_page_end, @object\n"
	"review_page_end:\n"
	".byte 0\n"
	".previous\n");
