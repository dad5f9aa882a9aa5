/*
 * doc.h: a printable document (the forms) as text, Markdown or HTML.
 */
#ifndef RTOWATCH_DOC_H
#define RTOWATCH_DOC_H

#include "cli.h"

struct doc {
	enum cli_format		 fmt;	/* TEXT (or TABLE), MD or HTML */
	int			 utf8;
	int			 en;
	int			 in_fields;
	const char		*extra_css;	/* after the common CSS */
	size_t			 ncols, nrows;
	unsigned int		 nowrap;	/* HTML: columns kept on one
						   line, set after
						   doc_table_begin() */
	struct cli_table	 t;	/* text: a table being collected */
	struct cli_column	*cols;
};

/*
 * A label in the form's language: Traditional Chinese, or English with
 * the procedure's term beside it, so that an English reader can still
 * find the field on the paper form.
 */
#define DOC_L(d, zh, eng)	((d)->en ? eng " (" zh ")" : zh)

void	doc_begin(struct doc *, const char *, const char *, const char *);
void	doc_heading(struct doc *, const char *);
void	doc_field(struct doc *, const char *, const char *);
void	doc_note(struct doc *, const char *);
void	doc_table_begin(struct doc *, const char *const *, size_t,
	    const char *);
void	doc_table_row(struct doc *, const char *const *);
void	doc_table_end(struct doc *, const char *);
void	doc_sign(struct doc *, const char *const *, size_t, int);
void	doc_end(struct doc *, const char *);

#endif
