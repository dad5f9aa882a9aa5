/*
 * base64.h: RFC 4648 base64 (the standard alphabet, padded), for the
 * mailer's MIME parts and encoded words.  OpenSSL's EVP_EncodeBlock did
 * this, but calling it mapped libcrypto (1.4 MB) into every daemon that
 * sends mail over plain SMTP or none at all (issue 20).
 */
#ifndef RTOWATCH_BASE64_H
#define RTOWATCH_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for N bytes, without the NUL. */
#define BASE64_LEN(n)	(4 * (((n) + 2) / 3))

/* Encodes N bytes of IN into OUT (BASE64_LEN(N) + 1 bytes), NUL-ended. */
size_t	base64_encode(char *, const void *, size_t);

#endif
