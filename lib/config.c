/* config.c - parse the configuration file into command-line arguments. */
#include "config.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMELEN 64		/* longest section or key name */

/* Options that only make sense on a command line. */
static const char *const refused[] = {
	"help", "version", "config", "no-config", NULL
};

struct parse {
	const char *name;	/* file name for messages */
	unsigned line;
	char *err;
	size_t errlen;
};

static int
perr(struct parse *ps, const char *what, const char *arg)
{
	p2pl_seterr(ps->err, ps->errlen, "%s:%u: %s%s%.64s%s", ps->name,
	    ps->line, what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return -1;
}

static int
isname(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '_';
}

static int
isblank_(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* Copy s[0..n) trimmed of blanks at both ends into out (NUL-terminated). */
static void
trim(const char *s, size_t n, char *out)
{
	while (n > 0 && isblank_((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isblank_((unsigned char)s[n - 1]))
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* "[name]": the section name into sec; -1 if malformed. */
static int
section_line(struct parse *ps, const char *l, char *sec)
{
	size_t n = strlen(l), i;

	if (n < 3 || l[n - 1] != ']' || n - 2 >= NAMELEN)
		return perr(ps, "bad section header (want [program-name])",
		    NULL);
	for (i = 1; i < n - 1; i++)
		if (!isname((unsigned char)l[i]))
			return perr(ps, "bad section name", l);
	memcpy(sec, l + 1, n - 2);
	sec[n - 2] = '\0';
	return 0;
}

static const struct option *
find(const struct option *opts, const char *key)
{
	for (; opts->name != NULL; opts++)
		if (strcmp(opts->name, key) == 0)
			return opts;
	return NULL;
}

static int
add(struct parse *ps, struct p2pl_config *c, const char *key,
    const char *val)
{
	size_t n = strlen(key) + (val ? strlen(val) + 1 : 0) + 3;

	if (c->argc == P2PL_CONFIG_ARGS)
		return perr(ps, "too many settings in one section", NULL);
	if ((c->argv[c->argc] = malloc(n)) == NULL)
		return perr(ps, "out of memory", NULL);
	snprintf(c->argv[c->argc], n, "--%s%s%s", key, val ? "=" : "",
	    val ? val : "");
	c->argc++;
	return 0;
}

/* "key = value" or "key": check it, and keep it when ours is true. */
static int
setting_line(struct parse *ps, const char *l, int ours,
    const struct option *opts, struct p2pl_config *c)
{
	const char *eq = strchr(l, '=');
	const struct option *o;
	char key[P2PL_CONFIG_LINE + 1], val[P2PL_CONFIG_LINE + 1];
	int i;

	trim(l, eq ? (size_t)(eq - l) : strlen(l), key);
	if (eq != NULL)
		trim(eq + 1, strlen(eq + 1), val);
	if (key[0] == '\0' || strlen(key) >= NAMELEN)
		return perr(ps, "bad key", key[0] ? key : NULL);
	for (i = 0; key[i] != '\0'; i++)
		if (!isname((unsigned char)key[i]))
			return perr(ps, "bad key", key);
	if (!ours)
		return 0;
	for (i = 0; refused[i] != NULL; i++)
		if (strcmp(key, refused[i]) == 0)
			return perr(ps, "option not allowed here", key);
	if ((o = find(opts, key)) == NULL)
		return perr(ps, "unknown key", key);
	if (o->has_arg == no_argument) {
		/* a switch: "key", "key = yes" sets it, "key = no" does not */
		if (eq == NULL || strcmp(val, "yes") == 0)
			return add(ps, c, key, NULL);
		if (strcmp(val, "no") == 0)
			return 0;
		return perr(ps, "want yes or no for", key);
	}
	if (eq == NULL || val[0] == '\0')
		return perr(ps, "missing value for", key);
	return add(ps, c, key, val);
}

/* One line without its newline: blank, comment, section or setting. */
static int
parse_line(struct parse *ps, const char *s, size_t n, const char *section,
    char *sec, const struct option *opts, struct p2pl_config *c)
{
	char l[P2PL_CONFIG_LINE + 1];
	size_t i;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > P2PL_CONFIG_LINE)
		return perr(ps, "line too long", NULL);
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return perr(ps, "control character", NULL);
	trim(s, n, l);
	if (l[0] == '\0' || l[0] == '#')
		return 0;
	if (l[0] == '[')
		return section_line(ps, l, sec);
	if (sec[0] == '\0')
		return perr(ps, "setting outside a section (start one with "
		    "[program-name])", NULL);
	return setting_line(ps, l, strcmp(sec, section) == 0, opts, c);
}

int
p2pl_config_parse(const char *text, size_t len, const char *name,
    const char *section, const struct option *opts, struct p2pl_config *c,
    char *err, size_t errlen)
{
	struct parse ps = { name, 0, err, errlen };
	char sec[NAMELEN] = "";
	const char *nl;
	size_t n;

	c->argc = 0;
	if (len > P2PL_CONFIG_SIZE) {
		p2pl_seterr(err, errlen, "%s: larger than %d bytes", name,
		    P2PL_CONFIG_SIZE);
		return -1;
	}
	while (len > 0) {
		ps.line++;
		nl = memchr(text, '\n', len);
		n = nl ? (size_t)(nl - text) : len;
		if (parse_line(&ps, text, n, section, sec, opts, c) == -1) {
			p2pl_config_release(c);
			return -1;
		}
		n += nl != NULL;
		text += n;
		len -= n;
	}
	return 0;
}

void
p2pl_config_release(struct p2pl_config *c)
{
	while (c->argc > 0)
		free(c->argv[--c->argc]);
}
