/*
 * fuzz_conf.c: libFuzzer harness for the rules parser.
 *
 * Rules files come from administrators, but through includes and
 * copy-paste they are outside input all the same: any bytes must give
 * either a struct conf or a list of errors, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	char			*text;

	/* Keep includes out of the file system. */
	if (size > 0 && memmem(data, size, "include", 7) != NULL)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf = conf_parse_buffer("fuzz.conf", text, size, &errs);
	if (conf == NULL && errs.count == 0)
		abort();	/* a rejected file must say why */
	conf_free(conf);
	conf_errors_clear(&errs);
	free(text);
	return 0;
}
