/* test_config.c - settings: defaults, the JSON file with errors that name the key, the
 * environment over the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "plat.h"
#include "err.h"
#include "log.h"

/* The defaults with every adapter's section, as planbot starts. */
static int defaults(struct config *c)
{
    int rc = config_defaults(c);
    return rc ? rc : plat_add_settings(c);
}

static void defaults_put_the_database_in_the_data_home(void **state)
{
    (void)state;
    struct config c;
    setenv("HOME", "/home/alice", 1);
    unsetenv("XDG_DATA_HOME");
    assert_int_equal(defaults(&c), 0);
    assert_string_equal(c.db, "/home/alice/.local/share/planbot/planbot.db");
    assert_int_equal(c.db_is_default, 1);
    assert_string_equal(c.platform, "console");
    assert_int_equal(c.log_level, LOG_INFO);
    config_free(&c);
    setenv("XDG_DATA_HOME", "/data", 1);
    assert_int_equal(defaults(&c), 0);
    assert_string_equal(c.db, "/data/planbot/planbot.db");
    config_free(&c);
    unsetenv("XDG_DATA_HOME");
}

static void file_errors_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *says;
    } rows[] = {
        { "{\"db\": \"/tmp/x.db\", \"platform\": \"console\", \"log_level\": \"warn\"}", 0, "" },
        { "{\"databse\": \"/tmp/x.db\"}", ERR_INVAL, "unknown key \"databse\"" },
        { "{\"db\": 42}", ERR_INVAL, "\"db\" must be a non-empty string" },
        { "{\"db\": \"\"}", ERR_INVAL, "\"db\" must be a non-empty string" },
        { "{\"log_level\": \"loud\"}", ERR_INVAL, "\"log_level\" must be one of" },
        { "[1, 2]", ERR_INVAL, "must be a JSON object" },
        { "{\n\"db\": \"x\",\n\"platform\": }", ERR_INVAL, "line 3" },
        { "", ERR_INVAL, "not valid JSON" },
        { "{\"log_level\": \"error\"}\n\n} {{", ERR_INVAL, "line 3: text after the JSON object" },
        { "{\"log_level\": \"error\"}\n  \n", 0, "" },
        { "{\"moderators\": {\"slack\": [\"U1\", \"U2\"]}, \"unanswered_days\": 30}", 0, "" },
        { "{\"moderators\": [\"U1\"]}", ERR_INVAL, "\"moderators\" must be an object" },
        { "{\"moderators\": {\"Slack!\": [\"U1\"]}}", ERR_INVAL, "not a platform name" },
        { "{\"slack\": {\"api_url\": \"http://slack.example/api/\"}}", ERR_INVAL,
          "must use https://" },
        { "{\"slack\": {\"api_url\": \"http://localhost.evil/api/\"}}", ERR_INVAL,
          "must use https://" },
        { "{\"slack\": {\"api_url\": \"http://localhost:8080/api/\"}}", 0, "" },
        { "{\"slack\": {\"app_token_file\": \"xapp-1-A1-secret\"}}", ERR_INVAL,
          "holds a token, not a file name" },
        { "{\"unanswered_days\": 1e20}", ERR_INVAL, "\"unanswered_days\" must be a whole number" },
        { "{\"moderators\": {\"slack\": \"U1\"}}", ERR_INVAL, "must be an array" },
        { "{\"moderators\": {\"slack\": [\"U 1\"]}}", ERR_INVAL, "must hold user ids" },
        { "{\"moderators\": {\"slack\": [7]}}", ERR_INVAL, "must hold user ids" },
        { "{\"unanswered_days\": -1}", ERR_INVAL, "\"unanswered_days\" must be a whole number" },
        { "{\"unanswered_days\": 1.5}", ERR_INVAL, "\"unanswered_days\" must be a whole number" },
        { "{\"unanswered_days\": \"9\"}", ERR_INVAL, "\"unanswered_days\" must be a whole number" },
        { "{\"slack\": {\"api_url\": \"http://127.0.0.1:9/api\", \"pace_ms\": 0}}", 0, "" },
        { "{\"slack\": []}", ERR_INVAL, "\"slack\" must be an object" },
        { "{\"slack\": {\"api\": \"x\"}}", ERR_INVAL,
          "unknown key \"slack.api\" (known keys in slack:" },
        { "{\"slack\": {\"api_url\": \"ftp://x/\"}}", ERR_INVAL,
          "\"slack.api_url\" must be an http" },
        { "{\"slack\": {\"pace_ms\": 100000}}", ERR_INVAL,
          "\"slack.pace_ms\" must be a whole number from 0" },
        { "{\"slack\": {\"ping_secs\": 1, \"timeout_secs\": 3}}", 0, "" },
        { "{\"slack\": {\"ping_secs\": 0}}", ERR_INVAL,
          "\"slack.ping_secs\" must be a whole number from 1" },
        { "{\"slack\": {\"timeout_secs\": 1}}", ERR_INVAL,
          "\"slack.timeout_secs\" must be a whole number from 2" },
        { "{\"slack\": {\"ping_secs\": 30}}", ERR_INVAL,
          "\"slack.ping_secs\" (30) must be less than \"slack.timeout_secs\" (30)" },
        { "{\"slack\": {\"bot_token\": \"xoxb-1\"}}", ERR_INVAL,
          "tokens are never read from the configuration" },
        { "{\"tls_ca_file\": 1}", ERR_INVAL, "\"tls_ca_file\" must be a non-empty string" },
        { "{\"linger_us\": 0}", 0, "" },
        { "{\"linger_us\": 100000}", 0, "" },
        { "{\"linger_us\": 100001}", ERR_INVAL,
          "\"linger_us\" must be a whole number from 0 to 100000" },
        { "{\"linger_us\": -1}", ERR_INVAL, "\"linger_us\" must be a whole number" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct config c;
        char err[256] = "";
        assert_int_equal(defaults(&c), 0);
        int rc =
            config_load_text(&c, rows[i].text, strlen(rows[i].text), "test.json", err, sizeof err);
        if (rc != rows[i].rc || !strstr(err, rows[i].says))
            fail_msg("row %zu: got %d \"%s\"", i, rc, err);
        if (rc)
            assert_non_null(strstr(err, "test.json"));
        config_free(&c);
    }
}

static void file_values_apply_and_environment_overrides(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    const char *text = "{\"db\": \"/from/file.db\", \"log_level\": \"error\"}";
    assert_int_equal(defaults(&c), 0);
    assert_int_equal(config_load_text(&c, text, strlen(text), "f", err, sizeof err), 0);
    assert_string_equal(c.db, "/from/file.db");
    assert_int_equal(c.db_is_default, 0);
    assert_int_equal(c.log_level, LOG_ERROR);
    setenv("PLANBOT_DB", "/from/env.db", 1);
    setenv("PLANBOT_LOG_LEVEL", "debug", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), 0);
    assert_string_equal(c.db, "/from/env.db");
    assert_int_equal(c.log_level, LOG_DEBUG);
    setenv("PLANBOT_LOG_LEVEL", "chatty", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "PLANBOT_LOG_LEVEL"));
    unsetenv("PLANBOT_DB");
    unsetenv("PLANBOT_LOG_LEVEL");
    config_free(&c);
}

static void moderators_name_known_chat_platforms(void **state)
{
    (void)state;
    static const char *const names[] = { "slack", "mattermost", NULL }; /* with moderators */
    static const struct {
        const char *text;
        int rc;
        const char *says;
    } rows[] = {
        { "{\"moderators\": {\"slack\": [\"U1\"]}}", 0, "" },
        { "{\"moderators\": {\"slak\": [\"U1\"]}}", ERR_INVAL, "\"moderators.slak\": not a chat" },
        { "{\"moderators\": {\"console\": [\"U1\"]}}", ERR_INVAL,
          "the console's user is always one" },
        { "{\"moderators\": {\"mattermost\": [\"u1\"]}}", 0, "" },
        { "{\"moderators\": {\"slackx\": [\"U1\"]}}", ERR_INVAL, "\"moderators.slackx\"" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct config c;
        char err[256] = "";
        assert_int_equal(defaults(&c), 0);
        assert_int_equal(
            config_load_text(&c, rows[i].text, strlen(rows[i].text), "t", err, sizeof err), 0);
        int rc = config_check_platforms(&c, names, err, sizeof err);
        if (rc != rows[i].rc || !strstr(err, rows[i].says))
            fail_msg("row %zu: got %d \"%s\"", i, rc, err);
        config_free(&c);
    }
}

static void moderators_are_platform_user_ids(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    const char *text = "{\"moderators\": {\"slack\": [\"U1\", \"UMOD\"]}}";
    assert_int_equal(defaults(&c), 0);
    assert_int_equal(config_load_text(&c, text, strlen(text), "f", err, sizeof err), 0);
    assert_true(config_is_moderator(&c, "slack", "UMOD"));
    assert_true(config_is_moderator(&c, "slack", "U1"));
    assert_false(config_is_moderator(&c, "slack", "U"));
    assert_false(config_is_moderator(&c, "slack", "U10"));
    assert_false(config_is_moderator(&c, "console", "UMOD"));
    assert_false(config_is_moderator(&c, "slac", "UMOD"));
    config_free(&c);
}

static void slack_settings_default_and_the_environment_overrides(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    assert_int_equal(defaults(&c), 0);
    assert_string_equal(config_string(&c, "slack", "api_url"), "https://slack.com/api/");
    assert_int_equal(config_int(&c, "slack", "pace_ms"), 1000);
    assert_int_equal(config_int(&c, "slack", "ping_secs"), 10);
    assert_int_equal(config_int(&c, "slack", "timeout_secs"), 30);
    assert_int_equal(c.unanswered_days, 90);
    assert_int_equal(c.linger_us, 300);
    const char *text = "{\"slack\": {\"api_url\": \"http://127.0.0.1:9/api\"}}";
    assert_int_equal(config_load_text(&c, text, strlen(text), "f", err, sizeof err), 0);
    assert_string_equal(config_string(&c, "slack", "api_url"), "http://127.0.0.1:9/api/");
    setenv("SLACK_API_URL", "http://127.0.0.1:10/x/", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), 0);
    assert_string_equal(config_string(&c, "slack", "api_url"), "http://127.0.0.1:10/x/");
    setenv("SLACK_API_URL", "slack.com", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "SLACK_API_URL"));
    unsetenv("SLACK_API_URL");
    config_free(&c);
}

static void secrets_come_from_the_environment_or_a_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/planbot-config-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/token", dir);
    char *tok;
    unsetenv("PLANBOT_TEST_TOKEN");
    /* neither: no token, no error */
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", NULL, &tok, err, sizeof err), 0);
    assert_null(tok);
    /* a missing file names the file and the variable */
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", path, &tok, err, sizeof err), ERR_IO);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "PLANBOT_TEST_TOKEN"));
    /* a file: its first line, trimmed */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("  xoxb-from-file \nsecond line\n", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", path, &tok, err, sizeof err), 0);
    assert_string_equal(tok, "xoxb-from-file");
    free(tok);
    /* the environment wins over the file */
    setenv("PLANBOT_TEST_TOKEN", "xoxb-from-env", 1);
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", path, &tok, err, sizeof err), 0);
    assert_string_equal(tok, "xoxb-from-env");
    free(tok);
    /* a folder is not a token file */
    unsetenv("PLANBOT_TEST_TOKEN");
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", dir, &tok, err, sizeof err), ERR_IO);
    assert_non_null(strstr(err, "Is a directory"));
    /* a token with a space in it is refused without being shown */
    setenv("PLANBOT_TEST_TOKEN", "xoxb-a b", 1);
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", NULL, &tok, err, sizeof err), ERR_INVAL);
    assert_null(strstr(err, "xoxb"));
    unsetenv("PLANBOT_TEST_TOKEN");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("\n", f);
    fclose(f);
    assert_int_equal(config_secret("PLANBOT_TEST_TOKEN", path, &tok, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "empty"));
    unlink(path);
    rmdir(dir);
}

static void missing_file_is_an_io_error(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    assert_int_equal(defaults(&c), 0);
    assert_int_equal(config_load_file(&c, "/nonexistent/planbot.json", err, sizeof err), ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/planbot.json"));
    config_free(&c);
}

static void example_config_in_the_tree_loads(void **state)
{
    (void)state;
    const char *root = getenv("PLANBOT_SOURCE");
    if (!root)
        skip();
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/config/planbot.example.json", root);
    struct config c;
    assert_int_equal(defaults(&c), 0);
    if (config_load_file(&c, path, err, sizeof err))
        fail_msg("%s", err);
    config_free(&c);
}

/* An adapter's own section: its keys and defaults come from its table, a name cannot be taken
 * twice, and without the section its key is unknown, with the sections that exist listed. */
static const struct config_key demo_keys[] = {
    { "url", CONFIG_URL, 0, 0, 0, "https://demo.example/api", "DEMO_URL" },
    { "token_file", CONFIG_TOKEN_FILE, 0, 0, 0, "dm-", NULL },
    { "retries", CONFIG_INT, 0, 9, 3, NULL, NULL },
    { "limit", CONFIG_INT, 1, 100, 50, NULL, NULL },
    { "loud", CONFIG_BOOL, 0, 0, 1, NULL, NULL },
    { "token", CONFIG_SECRET, 0, 0, 0, NULL, "DEMO_TOKEN" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static int demo_check(const struct config *cfg, const char *origin, char *err, size_t errlen)
{
    return config_check_less(cfg, "demo", "retries", "limit", "or nothing is ever tried", origin,
                             err, errlen);
}

static const struct config_section demo = { "demo", demo_keys, demo_check };

static void an_adapter_owns_its_section(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *says;
    } rows[] = {
        { "{\"demo\": {\"retries\": 5, \"url\": \"http://127.0.0.1:1/x\", \"loud\": false}}", 0,
          "" },
        { "{\"demo\": {\"loud\": 0}}", ERR_INVAL, "\"demo.loud\" must be true or false" },
        { "{\"demo\": {\"loud\": \"yes\"}}", ERR_INVAL, "\"demo.loud\" must be true or false" },
        { "{\"demo\": {\"retries\": 10}}", ERR_INVAL,
          "\"demo.retries\" must be a whole number from 0 to 9" },
        { "{\"demo\": {\"limit\": 2, \"retries\": 2}}", ERR_INVAL,
          "f: \"demo.retries\" (2) must be less than \"demo.limit\" (2), or nothing is ever "
          "tried" },
        { "{\"demo\": {\"token\": \"dm-1\"}}", ERR_INVAL,
          "\"demo.token\": tokens are never read from the configuration file; set DEMO_TOKEN or "
          "name a file with demo.token_file" },
        { "{\"demo\": {\"token_file\": \"dm-123\"}}", ERR_INVAL, "holds a token, not a file" },
        { "{\"demo\": {\"colour\": 1}}", ERR_INVAL,
          "unknown key \"demo.colour\" (known keys in demo: url, token_file, retries, limit, "
          "loud)" },
        { "{\"demo\": 1}", ERR_INVAL, "\"demo\" must be an object" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct config c;
        char err[512] = "";
        assert_int_equal(config_defaults(&c), 0);
        assert_int_equal(config_add_section(&c, &demo), 0);
        assert_int_equal(config_int(&c, "demo", "retries"), 3);
        assert_int_equal(config_int(&c, "demo", "loud"), 1); /* its default */
        assert_null(config_string(&c, "demo", "loud"));
        assert_string_equal(config_string(&c, "demo", "url"), "https://demo.example/api");
        int rc = config_load_text(&c, rows[i].text, strlen(rows[i].text), "f", err, sizeof err);
        if (rc != rows[i].rc || !strstr(err, rows[i].says))
            fail_msg("row %zu: got %d \"%s\"", i, rc, err);
        if (!rc) {
            assert_int_equal(config_int(&c, "demo", "retries"), 5);
            assert_int_equal(config_int(&c, "demo", "loud"), 0);
            assert_string_equal(config_string(&c, "demo", "url"), "http://127.0.0.1:1/x/");
        }
        config_free(&c);
    }
    struct config c;
    char err[512] = "";
    assert_int_equal(config_defaults(&c), 0);
    assert_int_equal(config_add_section(&c, &demo), 0);
    assert_int_equal(config_add_section(&c, &demo), ERR_INVAL); /* a name twice */
    assert_null(config_string(&c, "demo", "nope"));
    assert_int_equal(config_int(&c, "nope", "retries"), 0);
    setenv("DEMO_URL", "https://elsewhere.example", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), 0);
    unsetenv("DEMO_URL");
    assert_string_equal(config_string(&c, "demo", "url"), "https://elsewhere.example/");
    config_free(&c);
    /* without the section its key is unknown, and the message lists what is known */
    assert_int_equal(defaults(&c), 0);
    const char *text = "{\"demo\": {}}";
    assert_int_equal(config_load_text(&c, text, strlen(text), "f", err, sizeof err), ERR_INVAL);
    if (!strstr(err, "unknown key \"demo\"") || !strstr(err, "slack, mattermost"))
        fail_msg("got \"%s\"", err);
    config_free(&c);
}

/* String and list keys (IRC's nick and channels): a default, the file, the environment, and what
 * they refuse. */
static const struct config_key words_keys[] = {
    { "nick", CONFIG_STRING, 0, 0, 0, "planbot", "WORDS_NICK" },
    { "channels", CONFIG_LIST, 0, 0, 0, NULL, "WORDS_CHANNELS" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static const struct config_section words = { "words", words_keys, NULL };

static void string_and_list_keys(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *nick, *channels, *says;
    } rows[] = {
        { "{}", 0, "planbot", NULL, "" },
        { "{\"words\": {\"nick\": \"pb\", \"channels\": [\"#a\", \"#b\"]}}", 0, "pb", "#a,#b", "" },
        { "{\"words\": {\"channels\": []}}", 0, "planbot", "", "" },
        { "{\"words\": {\"nick\": \"\"}}", ERR_INVAL, NULL, NULL, "non-empty string" },
        { "{\"words\": {\"nick\": \"a\\nb\"}}", ERR_INVAL, NULL, NULL, "control characters" },
        { "{\"words\": {\"nick\": 1}}", ERR_INVAL, NULL, NULL, "non-empty string" },
        { "{\"words\": {\"channels\": \"#a\"}}", ERR_INVAL, NULL, NULL, "must be an array" },
        { "{\"words\": {\"channels\": [\"#a,#b\"]}}", ERR_INVAL, NULL, NULL,
          "without spaces or commas" },
        { "{\"words\": {\"channels\": [\"#a b\"]}}", ERR_INVAL, NULL, NULL,
          "without spaces or commas" },
        { "{\"words\": {\"channels\": [2]}}", ERR_INVAL, NULL, NULL, "must be an array" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct config c;
        char err[512] = "";
        assert_int_equal(config_defaults(&c), 0);
        assert_int_equal(config_add_section(&c, &words), 0);
        int rc = config_load_text(&c, rows[i].text, strlen(rows[i].text), "f", err, sizeof err);
        if (rc != rows[i].rc || !strstr(err, rows[i].says))
            fail_msg("row %zu: got %d \"%s\"", i, rc, err);
        if (!rc) {
            assert_string_equal(config_string(&c, "words", "nick"), rows[i].nick);
            const char *ch = config_string(&c, "words", "channels");
            if (rows[i].channels)
                assert_string_equal(ch, rows[i].channels);
            else
                assert_null(ch);
        }
        config_free(&c);
    }
    struct config c;
    char err[512] = "";
    assert_int_equal(config_defaults(&c), 0);
    assert_int_equal(config_add_section(&c, &words), 0);
    setenv("WORDS_NICK", "envnick", 1);
    setenv("WORDS_CHANNELS", "#x,#y", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), 0);
    assert_string_equal(config_string(&c, "words", "nick"), "envnick");
    assert_string_equal(config_string(&c, "words", "channels"), "#x,#y");
    setenv("WORDS_NICK", "bad\x01nick", 1);
    assert_int_equal(config_load_env(&c, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "WORDS_NICK"));
    unsetenv("WORDS_NICK");
    unsetenv("WORDS_CHANNELS");
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(string_and_list_keys),
        cmocka_unit_test(defaults_put_the_database_in_the_data_home),
        cmocka_unit_test(file_errors_name_the_key),
        cmocka_unit_test(file_values_apply_and_environment_overrides),
        cmocka_unit_test(moderators_name_known_chat_platforms),
        cmocka_unit_test(moderators_are_platform_user_ids),
        cmocka_unit_test(slack_settings_default_and_the_environment_overrides),
        cmocka_unit_test(an_adapter_owns_its_section),
        cmocka_unit_test(secrets_come_from_the_environment_or_a_file),
        cmocka_unit_test(missing_file_is_an_io_error),
        cmocka_unit_test(example_config_in_the_tree_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
