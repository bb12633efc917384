/*
 * words: two small sorted tables of English words, and lookups in them.
 *
 * common: about 800 everyday words plus the generic words of image
 * captions (woman, portrait, background, colours, body parts, clothes).
 * A trigger found here is a word the base model already knows; a word of
 * the character's text found here is too generic to call identity.
 * stop: function words (articles, prepositions, pronouns, auxiliaries).
 *
 * Both tables are sorted (strcmp order) and searched with bsearch. They
 * were written once by hand; keep them sorted when adding a word.
 */
#include <stdlib.h>
#include <string.h>

#include "words.h"

static const char *const common[] = {
	"a", "about", "above", "across", "act", "action", "actually", "add",
	"after", "again", "against", "age", "ago", "agree", "air", "all",
	"almost", "alone", "along", "already", "also", "although", "always",
	"am", "among", "an", "and", "angle", "angry", "animal", "another",
	"answer", "any", "anyone", "anything", "appear", "apple", "area",
	"arm", "arms", "army", "around", "art", "as", "ask", "at", "away",
	"baby", "back", "background", "bad", "bag", "ball", "bank", "bar",
	"base", "be", "beach", "beautiful", "because", "become", "bed",
	"been", "before", "began", "begin", "behind", "being", "believe",
	"below", "best", "better", "between", "beyond", "big", "bird", "bit",
	"black", "blue", "board", "boat", "body", "book", "boots", "born",
	"both", "bottom", "box", "boy", "brain", "bread", "break", "bright",
	"bring", "brother", "brow", "brown", "brows", "build", "building",
	"business", "but", "buy", "by", "call", "calm", "came", "camera",
	"can", "cap", "car", "card", "care", "carry", "case", "cat", "catch",
	"cause", "center", "central", "certain", "chair", "chance", "change",
	"character", "check", "cheek", "cheeks", "chest", "child",
	"children", "chin", "choose", "church", "city", "class", "clean",
	"clear", "close", "closeup", "clothes", "cloud", "coat", "cold",
	"color", "colour", "come", "common", "company", "complete",
	"computer", "control", "cool", "corner", "cost", "could", "country",
	"couple", "course", "cover", "create", "creature", "cross", "crying",
	"cup", "cut", "dance", "dark", "daughter", "dawn", "day", "daylight",
	"dead", "deal", "dear", "death", "decide", "deep", "design",
	"detail", "did", "die", "different", "dinner", "direction", "do",
	"doctor", "does", "dog", "done", "door", "down", "draw", "dream",
	"dress", "drink", "drive", "drop", "dry", "during", "dusk", "each",
	"ear", "early", "ears", "earth", "east", "easy", "eat", "edge",
	"effect", "egg", "eight", "either", "else", "end", "energy",
	"enough", "enter", "even", "evening", "event", "ever", "every",
	"everyone", "everything", "example", "expression", "eye", "eyebrow",
	"eyebrows", "eyelids", "eyes", "face", "fact", "fall", "family",
	"far", "farm", "fast", "father", "fear", "feel", "feet", "few",
	"field", "fight", "figure", "fill", "film", "final", "find", "fine",
	"finger", "fingers", "fire", "first", "fish", "five", "floor",
	"flower", "fly", "focused", "follow", "food", "foot", "for", "force",
	"foreground", "forehead", "forest", "form", "forward", "four",
	"free", "friend", "from", "front", "frown", "full", "fun", "game",
	"garden", "gave", "gaze", "general", "gentleman", "get", "girl",
	"give", "glance", "glass", "glasses", "go", "god", "gold", "good",
	"got", "gray", "great", "green", "grey", "ground", "group", "grow",
	"gun", "guy", "had", "hair", "half", "hand", "hands", "happen",
	"happy", "hard", "has", "hat", "have", "he", "head", "hear", "heart",
	"heat", "heavy", "held", "hello", "help", "her", "here", "high",
	"highlight", "hill", "him", "his", "history", "hit", "hold",
	"holding", "hole", "home", "hoodie", "hope", "horse", "hot", "hour",
	"house", "how", "however", "human", "hundred", "husband", "i", "ice",
	"idea", "if", "image", "important", "in", "indoor", "indoors",
	"inner", "inside", "interest", "into", "iron", "is", "island", "it",
	"its", "jacket", "jaw", "jeans", "job", "join", "just", "keep",
	"key", "kid", "kill", "kind", "king", "kitchen", "knee", "kneeling",
	"knees", "knew", "know", "lady", "land", "language", "large", "last",
	"late", "laugh", "law", "lay", "lead", "leaning", "learn", "least",
	"leave", "left", "leg", "legs", "less", "let", "letter", "level",
	"lie", "life", "light", "lighting", "like", "line", "lion", "lip",
	"lips", "list", "listen", "little", "live", "long", "look",
	"looking", "lose", "lot", "love", "low", "lower", "lying", "machine",
	"made", "main", "make", "man", "many", "map", "mark", "market",
	"matter", "may", "me", "mean", "meet", "men", "middle", "might",
	"mile", "milk", "mind", "minute", "miss", "model", "moment", "money",
	"month", "moon", "more", "morning", "most", "mother", "mountain",
	"mouth", "move", "much", "music", "must", "my", "name", "nation",
	"natural", "near", "neck", "need", "neutral", "never", "new", "news",
	"next", "nice", "night", "nine", "no", "none", "north", "nose",
	"not", "note", "nothing", "now", "number", "object", "of", "off",
	"office", "often", "oil", "old", "on", "once", "one", "only", "open",
	"or", "orange", "order", "other", "our", "out", "outdoor",
	"outdoors", "outer", "outside", "over", "own", "page", "pale",
	"pants", "paper", "parent", "park", "part", "party", "pass", "past",
	"pay", "people", "perfect", "perhaps", "person", "photo",
	"photograph", "photography", "picture", "piece", "pink", "place",
	"plan", "plant", "play", "please", "point", "police", "poor",
	"portrait", "pose", "position", "possible", "power", "present",
	"pretty", "problem", "pull", "purple", "push", "put", "queen",
	"question", "quick", "quiet", "race", "rain", "raise", "ran",
	"reach", "read", "ready", "real", "reason", "red", "remember",
	"rest", "rich", "ride", "right", "ring", "river", "road", "rock",
	"room", "round", "rule", "run", "running", "sad", "safe", "said",
	"same", "sat", "save", "saw", "say", "scene", "school", "sea",
	"season", "second", "see", "seem", "sell", "send", "sense",
	"serious", "setting", "seven", "shadow", "shadows", "shape", "she",
	"ship", "shirt", "shoe", "shoes", "shop", "short", "shorts", "shot",
	"should", "shoulder", "shoulders", "show", "side", "sign", "silver",
	"simple", "since", "sing", "sister", "sit", "sitting", "six", "size",
	"skin", "skirt", "sky", "sleep", "slow", "small", "smile", "smiling",
	"snow", "so", "some", "someone", "something", "son", "song", "soon",
	"sound", "south", "space", "speak", "special", "stand", "standing",
	"star", "stare", "start", "state", "stay", "step", "still", "stone",
	"stop", "story", "street", "strong", "student", "studio", "study",
	"style", "subject", "such", "suit", "summer", "sun", "sunlight",
	"sunrise", "sunset", "sure", "surprised", "sweater", "table", "take",
	"talk", "tall", "teacher", "team", "teeth", "tell", "ten", "than",
	"that", "the", "their", "them", "then", "there", "these", "they",
	"thing", "think", "third", "this", "those", "though", "thought",
	"three", "through", "time", "tired", "to", "today", "together",
	"told", "too", "took", "top", "toward", "town", "tree", "true",
	"try", "turn", "two", "under", "understand", "uniform", "until",
	"up", "upon", "upper", "us", "use", "very", "view", "voice", "wait",
	"walk", "walking", "wall", "want", "war", "warm", "was", "watch",
	"water", "way", "we", "wear", "wearing", "week", "well", "went",
	"were", "west", "what", "when", "where", "which", "while", "white",
	"who", "whole", "why", "wide", "wife", "will", "wind", "window",
	"winter", "with", "without", "woman", "women", "wonder", "wood",
	"word", "work", "world", "worried", "would", "write", "wrong",
	"yard", "year", "yellow", "yes", "yet", "you", "young", "your",
};

static const char *const stop[] = {
	"a", "about", "above", "across", "after", "against", "all", "along",
	"also", "am", "among", "an", "and", "another", "any", "are",
	"around", "as", "at", "be", "been", "before", "behind", "being",
	"below", "between", "beyond", "both", "but", "by", "can", "could",
	"did", "do", "does", "down", "during", "each", "either", "every",
	"few", "for", "from", "had", "has", "have", "he", "her", "here",
	"hers", "him", "his", "how", "i", "in", "into", "is", "it", "its",
	"just", "least", "less", "many", "may", "me", "might", "more",
	"most", "much", "must", "my", "near", "neither", "no", "nor", "not",
	"of", "off", "on", "one", "only", "onto", "or", "other", "our",
	"out", "over", "own", "same", "shall", "she", "should", "so", "some",
	"such", "than", "that", "the", "their", "theirs", "them", "then",
	"there", "these", "they", "this", "those", "through", "to", "two",
	"under", "up", "us", "very", "was", "we", "were", "what", "when",
	"where", "which", "who", "whom", "whose", "why", "will", "with",
	"without", "would", "yet", "you", "your",
};

static int
cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* Is word (lowercase) in the sorted table v of n words? */
static bool
find(const char *const *v, size_t n, const char *word)
{
	return bsearch(word, v, n, sizeof(*v), cmp) != NULL;
}

bool
words_common(const char *word)
{
	return find(common, sizeof(common) / sizeof(*common), word);
}

bool
words_stop(const char *word)
{
	return find(stop, sizeof(stop) / sizeof(*stop), word);
}
