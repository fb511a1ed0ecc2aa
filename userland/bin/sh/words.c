/* Part of sh.c (included there, never compiled alone): the words of a command line,
   split into tokens with quoting, $? and $! expanded, and operators recognised. */

/* An operator at p: REDIR (an fd number may come first), PIPE, AMP or SEMI. Returns the
   characters it takes, 0 if p is not at one, -1 for a bad fd number. */
static int operator(const char *p, struct token *t)
{
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (q > p && *q != '<' && *q != '>')
        return 0;
    t->fd = q > p ? (q - p > 1 ? 10 : *p - '0') : -1;
    if (t->fd >= 10)
        return -1;
    int n = q - p;
    switch (*q) {
    case '|': t->type = PIPE; return 1;
    case '&': t->type = AMP; return 1;
    case ';': t->type = SEMI; return 1;
    case '<':
        t->type = REDIR;
        t->op = q[1] == '&' ? R_DUP : R_IN;
        if (t->fd < 0)
            t->fd = 0;
        return n + 1 + (t->op == R_DUP);
    case '>':
        t->type = REDIR;
        t->op = q[1] == '>' ? R_APPEND : q[1] == '&' ? R_DUP : R_OUT;
        if (t->fd < 0)
            t->fd = 1;
        return n + 1 + (t->op != R_OUT);
    }
    return 0;
}

/* Split line into tokens; word text goes into words (quotes removed, $? expanded). */
static int tokenize(const char *p, struct token *tok, char *words, size_t wsize)
{
    int n = 0;
    char *w = words, *wend = words + wsize - 16;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n == MAXTOK - 1) {
            fprintf(stderr, "sh: too many words\n");
            return -1;
        }
        if (!*p || *p == '#') {
            tok[n].type = END;
            return n;
        }
        int k = operator(p, &tok[n]);
        if (k < 0) {
            fprintf(stderr, "sh: bad file descriptor number (0-9)\n");
            return -1;
        }
        if (k > 0) {
            p += k;
            n++;
            continue;
        }
        tok[n].type = WORD;
        tok[n++].text = w;
        char quote = 0;
        while (*p && (quote || !strchr(" \t|<>&;", *p))) {
            if (w >= wend) {
                fprintf(stderr, "sh: line too long\n");
                return -1;
            }
            if (quote && *p == quote) {
                quote = 0;
                p++;
            } else if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p++;
            } else if (quote != '\'' && p[0] == '$' && (p[1] == '?' || p[1] == '!')) {
                w += snprintf(w, 12, "%d", p[1] == '?' ? last_status : last_bg);
                p += 2;
            } else if (!quote && *p == '\\' && p[1]) {
                *w++ = p[1];
                p += 2;
            } else {
                *w++ = *p++;
            }
        }
        if (quote) {
            fprintf(stderr, "sh: syntax error: unterminated quote\n");
            return -1;
        }
        *w++ = 0;
    }
}
