/*
 * main: the command table and the options every command shares.
 *
 *   loramake [OPTIONS] RECIPE            build
 *   loramake COMMAND [OPTIONS] RECIPE [ARGS]
 *
 * Options may stand before or after the recipe. Adding a command: write
 * cmd_NAME in cli/NAME.c, declare it in cli.h, add a row below, document
 * it in docs/cli.md and the usage text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "base/path.h"
#include "cli.h"
#include "runtime/image.h"

#define LORAMAKE_VERSION "0.1.0"

static const struct command {
	const char *name;
	int (*run)(const struct cli *);
	int min_args, max_args; /* positional words after the recipe */
	const char *args;       /* what they are, for the message when they
				 * are wrong (NULL: node id words) */
	bool targets;           /* the word is a target, as make takes one */
} commands[] = {
	{ "build", cmd_build, 0, 1, "at most a target (package or train)", true },
	{ "plan", cmd_plan, 0, 1, "at most a target (package or train)", true },
	{ "graph", cmd_graph, 0, 0, NULL, false },
	{ "explain", cmd_explain, 1, 1, NULL, false },
	{ "pick", cmd_pick, 0, 2, NULL, false },
	{ "reroll", cmd_reroll, 1, 1000, NULL, false },
	{ "check", cmd_check, 0, 0, NULL, false },
	{ "clean", cmd_clean, 0, 0, NULL, false },
	{ "gc", cmd_gc, 0, 0, NULL, false },
	{ "review", cmd_review, 0, 0, NULL, false },
	{ "merge-lock", cmd_merge_lock, 2, 2, "OURS and THEIRS", false },
};

static const char usage_text[] =
	"usage: loramake [OPTIONS] RECIPE [TARGET]   build the dataset (TARGET:\n"
	"                                            package, the default, or train)\n"
	"       loramake plan [--json] RECIPE [TARGET] what a build would run and cost\n"
	"       loramake graph [--format dot|mermaid] RECIPE\n"
	"       loramake explain RECIPE NODE         why a node would run\n"
	"       loramake pick RECIPE [NODE [N|--drop]] list picks; choose candidate N\n"
	"       loramake reroll [--undo] RECIPE NODE...  new seeds for these nodes\n"
	"       loramake check [--json] RECIPE       check the built dataset\n"
	"       loramake clean RECIPE                remove build/ and the package\n"
	"                                            (the cache is kept; see gc)\n"
	"       loramake gc RECIPE                   drop cache objects nothing uses\n"
	"       loramake review RECIPE [--port N] [--no-open] [--html DIR]\n"
	"                                            see, pick and cull in a browser\n"
	"       loramake merge-lock BASE OURS THEIRS git's merge driver for recipe.lock\n"
	"\n"
	"options (the same for plan and build, before or after the recipe):\n"
	"  -j, --jobs N          run up to N jobs at once\n"
	"  --engine NAME         run every generative node on engine NAME\n"
	"                        (--engine preview: free offline placeholders)\n"
	"  --pick first          take candidate 1 where no pick was made\n"
	"  --max-cost USD        refuse a build whose plan costs more\n"
	"  --fail-fast           stop starting nodes after the first failure\n"
	"  --reroll-failed N     reroll an image the identity gate fails, up to\n"
	"                        N times (plan: what that may cost)\n"
	"  --allow-host HOST     an engine's url: may name HOST (a recipe alone\n"
	"                        may name only the vendor's hosts and loopback)\n"
	"  --allow-key-env NAME  an engine may send $NAME (ending in _KEY or\n"
	"                        _TOKEN) as its key; see docs/security.md\n"
	"  --remote-cache MODE   off, read or readwrite (the default once\n"
	"                        $LORAMAKE_REMOTE_CACHE names a team cache;\n"
	"                        see docs/remote-cache.md)\n"
	"  -v, --verbose         say more\n"
	"  -h, --help            this text\n"
	"  --version             print the version\n"
	"\n"
	"exit: 0 done, 1 nodes failed, 2 bad recipe or usage, 3 waiting for a pick,\n"
	"      130 interrupted (Ctrl-C; what finished is kept)\n";

static _Noreturn void
usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

static const char *
need_value(int *i, int argc, char **argv)
{
	if (*i + 1 >= argc)
		fatal(EXIT_USAGE, "option '%s' needs a value", argv[*i]);
	return argv[++*i];
}

/* Add word to the ','-joined list *list. */
static void
append_word(char **list, const char *word)
{
	char *joined = *list ? xasprintf("%s,%s", *list, word) : xstrdup(word);

	free(*list);
	*list = joined;
}

static void
parse_option(struct cli *c, int *i, int argc, char **argv)
{
	const char *a = argv[*i], *v;
	int64_t n;

	if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
		v = need_value(i, argc, argv);
		if (!parse_int64(v, &n) || n < 1 || n > 1024)
			fatal(EXIT_USAGE, "-j takes a number from 1 to 1024, not '%s'", v);
		c->jobs = (int)n;
	} else if (!strncmp(a, "-j", 2) && parse_int64(a + 2, &n) && n >= 1 && n <= 1024) {
		c->jobs = (int)n;
	} else if (!strcmp(a, "--engine")) {
		c->engine = need_value(i, argc, argv);
	} else if (!strcmp(a, "--pick")) {
		v = need_value(i, argc, argv);
		if (strcmp(v, "first"))
			fatal(EXIT_USAGE, "--pick takes 'first', not '%s'", v);
		c->pick_first = true;
	} else if (!strcmp(a, "--max-cost")) {
		v = need_value(i, argc, argv);
		if (!parse_double(v, &c->max_cost) || c->max_cost < 0)
			fatal(EXIT_USAGE, "--max-cost takes dollars, not '%s'", v);
	} else if (!strcmp(a, "--reroll-failed")) {
		v = need_value(i, argc, argv);
		if (!parse_int64(v, &n) || n < 0 || n > 100)
			fatal(EXIT_USAGE, "--reroll-failed takes 0 to 100 rerolls, not '%s'", v);
		c->reroll_failed = (int)n;
	} else if (!strcmp(a, "--json")) {
		c->json = true;
	} else if (!strcmp(a, "--format")) {
		c->format = need_value(i, argc, argv);
	} else if (!strcmp(a, "--drop")) {
		c->drop = true;
	} else if (!strcmp(a, "--undo")) {
		c->undo = true;
	} else if (!strcmp(a, "--port")) {
		v = need_value(i, argc, argv);
		if (!parse_int64(v, &n) || n < 0 || n > 65535)
			fatal(EXIT_USAGE, "--port takes a number from 0 to 65535, not '%s'", v);
		c->port = (int)n;
	} else if (!strcmp(a, "--no-open")) {
		c->no_open = true;
	} else if (!strcmp(a, "--html")) {
		c->html = need_value(i, argc, argv);
	} else if (!strcmp(a, "--fail-fast")) {
		c->fail_fast = true;
	} else if (!strcmp(a, "--allow-host")) {
		append_word(&c->allow_hosts, need_value(i, argc, argv));
	} else if (!strcmp(a, "--remote-cache")) {
		c->remote_cache = need_value(i, argc, argv);
	} else if (!strcmp(a, "--allow-key-env")) {
		append_word(&c->allow_key_envs, need_value(i, argc, argv));
	} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		c->verbose++;
	} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		usage(0);
	} else if (!strcmp(a, "--version")) {
		printf("loramake %s\n", LORAMAKE_VERSION);
		exit(0);
	} else {
		fatal(EXIT_USAGE, "unknown option '%s' (see loramake --help)", a);
	}
}

/* A folder names the recipe.yaml inside it: `loramake recipes/jinx`.
 * Returns arg itself, or a path the caller frees. */
static const char *
recipe_in(const char *arg)
{
	struct stat st;
	char *p;

	if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
		return arg;
	p = path_join(arg, "recipe.yaml");
	if (!path_exists(p))
		fatal(EXIT_USAGE, "'%s' is a folder without a recipe.yaml", arg);
	return p;
}

static bool
in_words(const char *const *words, const char *w)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcmp(words[i], w))
			return true;
	return false;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	struct cli c = { .max_cost = -1 };
	const struct command *cmd = NULL;
	char **posv = xcalloc((size_t)argc + 1, sizeof(*posv)), **pos = posv;
	char *root;
	int npos = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (++i < argc)
				pos[npos++] = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			parse_option(&c, &i, argc, argv);
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos && !strcmp(pos[0], "help"))
		usage(0);
	if (npos && !strcmp(pos[0], "version")) {
		printf("loramake %s\n", LORAMAKE_VERSION);
		return 0;
	}
	/* the first word is a command unless it names a file */
	if (npos && (cmd = find_command(pos[0])) && !strchr(pos[0], '.'))
		pos++, npos--;
	else
		cmd = find_command("build");
	if (npos < 1) {
		fprintf(stderr, "%s: which recipe? (e.g. loramake %s recipe.yaml)\n",
			lm_progname, cmd->name);
		usage(EXIT_USAGE);
	}
	c.cmd = cmd->name;
	c.recipe = recipe_in(pos[0]);
	c.args = pos + 1;
	c.nargs = npos - 1;
	/* the user named the recipe; what lies below its folder came with the
	 * folder: nothing there is followed or written outside (path.h) */
	root = path_dir(c.recipe);
	path_confine(root);
	if (c.nargs < cmd->min_args || c.nargs > cmd->max_args)
		fatal(EXIT_USAGE, "'%s' takes %s after the recipe (see loramake --help)",
		      cmd->name, cmd->args ? cmd->args
				 : cmd->max_args == 0 ? "nothing"
				 : cmd->min_args ? "a node id" : "at most a node id and a number");
	if (cmd->targets && c.nargs == 1) {
		static const char *const targets[] = { "package", "train", NULL };

		c.target = c.args[0];
		if (!in_words(targets, c.target))
			fatal(EXIT_USAGE, "unknown target '%s' (targets: package, train)",
			      c.target);
	}
	rc = cmd->run(&c);
	image_shutdown();
	if (c.recipe != pos[0])
		free((char *)c.recipe); /* made by recipe_in */
	path_confine(NULL);
	free(root);
	free(posv);
	free(c.allow_hosts);
	free(c.allow_key_envs);
	return rc;
}
