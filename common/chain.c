/*
 * chain.c: the timeline's hash chain.
 *
 * Each row's hash is SHA-256 over the previous row's hash and the row's
 * fields, each as a netstring ("LEN:BYTES,"), so no choice of contents
 * makes two different rows hash alike.  The daemon links rows with it and
 * rtowatch verify recomputes it; both must agree byte for byte.  A row
 * that binds records (below) has them as an eighth field.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "sha256.h"

static void	chain_hex(const unsigned char *, size_t, char *);

void
chain_hash(const char *prev, int64_t id, int64_t incident, int64_t warning,
    const char *at, const char *event, const char *actor, const char *detail,
    const char *records, char out[CHAIN_HEXLEN + 1])
{
	const char	*fields[8];
	char		 num[3][24];
	unsigned char	 md[SHA256_LEN];
	char		 len[24];
	struct sha256	 ctx;
	size_t		 i;

	snprintf(num[0], sizeof(num[0]), "%lld", (long long)id);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)incident);
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)warning);
	fields[0] = num[0];
	fields[1] = num[1];
	fields[2] = num[2];
	fields[3] = at;
	fields[4] = event;
	fields[5] = actor;
	fields[6] = detail;
	/* Rows written before records were bound hash as they always did. */
	fields[7] = records != NULL && *records != '\0' ? records : NULL;
	sha256_init(&ctx);
	sha256_update(&ctx, prev, strlen(prev));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]) &&
	    fields[i] != NULL; i++) {
		snprintf(len, sizeof(len), "%zu:", strlen(fields[i]));
		sha256_update(&ctx, len, strlen(len));
		sha256_update(&ctx, fields[i], strlen(fields[i]));
		sha256_update(&ctx, ",", 1);
	}
	sha256_final(&ctx, md);
	chain_hex(md, sizeof(md), out);
}

/*
 * The records the forms print are bound to the chain too: a timeline row
 * carries, in its records column, one line per row of these tables that
 * its transaction wrote, "TABLE ID col=HASH col=HASH...", each HASH the
 * first 128 bits of SHA-256 over the table, the row id, the column and
 * its value, so that rtowatch verify can name the column that no longer
 * matches.  A row deleted is "TABLE ID -".
 *
 * Of the outbox, what was decided (recipient, subject, body, when) and
 * its delivery (state, sent_at), which form 01 prints and a "mail
 * delivered" event records, are bound; the tries in between (attempts,
 * next_try_at, last_error, address, alerted_at) and which node claimed
 * it to send (claimed_by, claimed_until) are the mailer's working state
 * and are left out.
 */
static const char *const chain_outbox_state[] = { "attempts",
    "next_try_at", "last_error", "address", "alerted_at", "claimed_by",
    "claimed_until", NULL };

const struct chain_table chain_tables[] = {
	{ "incidents", NULL },
	{ "outages", NULL },
	{ "clocks", NULL },
	{ "incident_scope", NULL },
	{ "notifications", chain_outbox_state },
	{ "warnings", NULL },
	{ "warning_indicators", NULL },
	{ "maintenance", NULL },
	{ "contacts", NULL },
	{ NULL, NULL },
};

const struct chain_table *
chain_table(const char *name)
{
	const struct chain_table	*t;

	for (t = chain_tables; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

int
chain_column_bound(const struct chain_table *t, const char *col)
{
	const char *const	*x;

	for (x = t->unbound; x != NULL && *x != NULL; x++)
		if (strcmp(*x, col) == 0)
			return 0;
	return 1;
}

/*
 * MD's N bytes in lower-case hex, with a NUL after, in OUT: what "%02x"
 * each gave, without a printf per byte (one hash per bound column of
 * every change).
 */
static void
chain_hex(const unsigned char *md, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* "N:S," (S is N bytes), as snprintf's "%zu:" made its head. */
static void
chain_netstring(struct sha256 *ctx, const char *s, size_t n)
{
	char	 len[24], *p = len + sizeof(len);
	size_t	 v = n;

	*--p = ':';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	sha256_update(ctx, p, (size_t)(len + sizeof(len) - p));
	sha256_update(ctx, s, n);
	sha256_update(ctx, ",", 1);
}

void
chain_column_hash(const char *table, int64_t id, const char *col,
    const char *value, size_t len, char out[CHAIN_COLHEXLEN + 1])
{
	unsigned char	 md[SHA256_LEN];
	char		 num[24];
	struct sha256	 ctx;

	snprintf(num, sizeof(num), "%lld", (long long)id);
	sha256_init(&ctx);
	chain_netstring(&ctx, table, strlen(table));
	chain_netstring(&ctx, num, strlen(num));
	chain_netstring(&ctx, col, strlen(col));
	/* NULL and '' differ: a value is marked V, a NULL N. */
	if (value == NULL)
		sha256_update(&ctx, "N", 1);
	else {
		sha256_update(&ctx, "V", 1);
		chain_netstring(&ctx, value, len);
	}
	sha256_final(&ctx, md);
	chain_hex(md, CHAIN_COLHEXLEN / 2, out);
}

/*
 * Append the record line of the row STMT is on (SELECT rowid, * FROM
 * TABLE) to *BUF, which grows; returns -1 if it cannot.
 */
int
chain_record_line(const struct chain_table *t, sqlite3_stmt *stmt,
    char **buf, size_t *len, size_t *cap)
{
	const char	*v;
	int64_t		 id = sqlite3_column_int64(stmt, 0);
	int		 i, n = sqlite3_column_count(stmt);

	if (chain_record_head(t, id, buf, len, cap) == -1)
		return -1;
	for (i = 1; i < n; i++) {
		v = (const char *)sqlite3_column_text(stmt, i);
		if (chain_record_column(t, id, sqlite3_column_name(stmt, i), v,
		    v == NULL ? 0 : (size_t)sqlite3_column_bytes(stmt, i), buf,
		    len, cap) == -1)
			return -1;
	}
	return 0;
}

/* A record line's head: its table and id. */
int
chain_record_head(const struct chain_table *t, int64_t id, char **buf,
    size_t *len, size_t *cap)
{
	char	 head[96];

	snprintf(head, sizeof(head), "%s%s %lld", *len > 0 ? "\n" : "",
	    t->name, (long long)id);
	return chain_append(buf, len, cap, head);
}

/* One column of a record line, if bound: V is its text, N bytes long. */
int
chain_record_column(const struct chain_table *t, int64_t id,
    const char *col, const char *v, size_t n, char **buf, size_t *len,
    size_t *cap)
{
	char	 h[CHAIN_COLHEXLEN + 1];

	if (!chain_column_bound(t, col))
		return 0;
	chain_column_hash(t->name, id, col, v, n, h);
	if (chain_append(buf, len, cap, " ") == -1 ||
	    chain_append(buf, len, cap, col) == -1 ||
	    chain_append(buf, len, cap, "=") == -1 ||
	    chain_append(buf, len, cap, h) == -1)
		return -1;
	return 0;
}

int
chain_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t	 n = strlen(s);
	char	*p;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((p = realloc(*buf, *cap)) == NULL)
			return -1;
		*buf = p;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}
