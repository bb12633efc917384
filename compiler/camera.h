#ifndef LM_CAMERA_H
#define LM_CAMERA_H
/*
 * camera: the vocabulary of angle item names. An item such as
 * "three_quarter_left" or "closeup_front" names a camera: the words split
 * at '_', '-' or ' ', each from one fixed table (docs/engines.md lists
 * it). The multiple-angles endpoint is driven by it (its request's
 * horizontal_angle, vertical_angle and zoom), and the compiler refuses an
 * item with an unknown word before anything runs. Only the item name is
 * read, because it is what the node key holds.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h" /* struct error */

/* A camera, in the multiple-angles endpoint's ranges (ENGINES.md 1.13). */
struct camera {
	double horizontal;  /* degrees, 0..360: 0 front, 90 right, 180 back */
	double vertical;    /* degrees, -30..90: -30 low, 0 eye level */
	double zoom;        /* 0 wide .. 10 close-up; 5 the default */
};

/* What to write instead, for messages about an angle that names none. */
#define CAMERA_HINT "use words like front, three_quarter_left, profile_right, back_left, low_angle, high_angle, closeup_front, or set params horizontal_angle, vertical_angle and zoom"

/*
 * The camera for angle item name item. -1 with err naming the first word
 * it does not know, or saying that no word places the camera.
 */
int camera_of_angle(const char *item, struct camera *out, struct error *err);

struct param;

/* Does one of params (n of them) place the camera itself
 * (horizontal_angle, vertical_angle or zoom)? Then the item's name need
 * not. */
bool camera_set_by_params(const struct param *params, size_t n);

/* Every camera word, comma-separated, for messages (cut to outsz). */
void camera_list_words(char *out, size_t outsz);

#endif
