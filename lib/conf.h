/* conf.h - configuration values: parsed from regmaster.conf by master, sent
 * to workers as name/value messages, and read through typed accessors. */
#ifndef RM_CONF_H
#define RM_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "params.h"

enum conf_type { CT_STR, CT_PATH, CT_OPTPATH, CT_USER, CT_BOOL, CT_INT,
	CT_LISTEN, CT_LOGLEVEL, CT_DURATION, CT_PATHLIST, CT_RULES, CT_PORTS,
	CT_SIZE, CT_PUSHMODE };

#define X_P(id, n, t, d, lo, hi, w, h) id,
enum conf_param { CONF_PARAMS(X_P) P_MAX };
#undef X_P

struct conf_param_def {
	const char	*name;
	enum conf_type	 type;
	const char	*dflt;
	int64_t		 min, max;
	unsigned	 workers;
	const char	*help;
};
extern const struct conf_param_def conf_params[P_MAX];

struct conf_value {
	char		*s;		/* canonical text; lists joined by '\n' */
	int64_t		 i;		/* CT_INT, CT_BOOL, CT_LOGLEVEL,
					   CT_PUSHMODE; CT_DURATION in
					   seconds, CT_SIZE in bytes */
	char		**list;		/* CT_LISTEN, CT_PATHLIST, CT_RULES */
	size_t		 nlist;
};

struct conf {
	char		*path;
	struct conf_value v[P_MAX];
};

struct conf *conf_new(void);		/* all defaults */
void	 conf_free(struct conf *);
void	 conf_use(struct conf *);	/* make it the current one */
struct conf *conf_current(void);
/* Read a libconfig file into c; -1 with "file:line: message" in err. */
int	 conf_load_file(struct conf *c, const char *path, char *err, size_t);
/* Set one value from its canonical text; -1 with a message in err. */
int	 conf_set(struct conf *c, int p, const char *text, char *err, size_t);
int	 conf_lookup(const char *name);
void	 conf_print(const struct conf *, FILE *, int with_help);

const char *conf_str(int p);
int64_t	 conf_int(int p);
int	 conf_bool(int p);
char *const *conf_list(int p, size_t *n);

/*
 * CT_RULES values (auth.rules, auth.groups, tunnel.client.proxies): a
 * libconfig list of groups of typed fields, some optional with a default;
 * canonical text is one element a line, every field in the parameter's
 * order (defaults filled in, integers and booleans as text), separated by
 * tabs.  conf_rules.c knows the fields.
 */
#define CONF_RULE_FIELDS	8
enum conf_rule_kind { RF_STR, RF_INT, RF_BOOL, RF_DURATION };
struct conf_rule_field {
	const char		*name;
	enum conf_rule_kind	 kind;
	/* NULL: required; "=F": field F's; "": may be empty (RF_STR) */
	const char		*dflt;
	int64_t			 min, max;	/* RF_INT */
};
int	 conf_rules_check(int p, const char *text, char *err, size_t);
const struct conf_rule_field *conf_rules_fields(int p, int *n);
void	 conf_rules_print(int p, const char *text, FILE *);
/* One element's line of canonical text into elem (zeroed); -1 with err. */
typedef int (*conf_elem_fn)(char *line, void *elem, char *err, size_t);
int	 conf_list_parse(const char *text, size_t size, size_t max,
	    const char *what, conf_elem_fn one, void **out, size_t *n,
	    char *err, size_t errlen);
struct config_setting_t;
struct buf;
int	 conf_rules_text(const struct conf_param_def *,
	    struct config_setting_t *, struct buf *out, char *err, size_t);

/* What no single value can say: the tunnel's keys together (a relay
 * needs a token, a client a way to verify the relay...); -1 with err. */
int	 conf_cross_check(const struct conf *, char *err, size_t);

/* A duration: plain seconds or with one unit (s, m, h, d), at most max
 * seconds: 0, or -1 if text is not one. */
int	 conf_duration_parse(const char *text, uint64_t max, uint64_t *secs);

/* A size: plain bytes or with one binary unit (K, M, G, T: "50G"), at
 * most INT64_MAX bytes: 0, or -1 if text is not one. */
int	 conf_size_parse(const char *text, uint64_t *bytes);

/* Split "host:port" / "[v6]:port"; 0 ok. */
int	 conf_split_hostport(const char *, char *host, size_t, char *port,
	    size_t);

#endif
