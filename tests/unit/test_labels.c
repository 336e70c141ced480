#include "check_helpers.h"

#include "labels.h"

#include <string.h>

START_TEST(test_names_in_ckplus_order)
{
    static const char *const want[] = {"neutral", "anger",     "contempt", "disgust",
                                       "fear",    "happiness", "sadness",  "surprise"};
    ck_assert_int_eq(FER_LABEL_COUNT, 8);
    for (int i = 0; i < FER_LABEL_COUNT; i++)
        ck_assert_str_eq(fer_label_name(i), want[i]);
    ck_assert_ptr_null(fer_label_name(-1));
    ck_assert_ptr_null(fer_label_name(8));
}
END_TEST

START_TEST(test_from_name_round_trips)
{
    for (int i = 0; i < FER_LABEL_COUNT; i++)
        ck_assert_int_eq(fer_label_from_name(fer_label_name(i)), i);
}
END_TEST

START_TEST(test_from_name_synonyms)
{
    static const struct {
        const char *name;
        const char *label;
    } cases[] = {
        /* AFEW folders */
        {"Angry", "anger"}, {"Disgust", "disgust"}, {"Fear", "fear"}, {"Happy", "happiness"},
        {"Neutral", "neutral"}, {"Sad", "sadness"}, {"Surprise", "surprise"},
        /* Kaggle FER2013 image folders */
        {"angry", "anger"}, {"happy", "happiness"}, {"sad", "sadness"}, {"surprise", "surprise"},
        /* others */
        {"HAPPINESS", "happiness"}, {"joy", "happiness"}, {"smile", "happiness"},
        {"mad", "anger"}, {"anger", "anger"}, {"sadness", "sadness"},
        {"surprised", "surprise"}, {"fearful", "fear"}, {"afraid", "fear"},
        {"scared", "fear"}, {"disgusted", "disgust"}, {"contemptuous", "contempt"},
        {"Contempt", "contempt"}, {"calm", "neutral"}, {" \tHappy \n", "happiness"},
        {"SU", "surprise"}, {"ha", "happiness"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int label = fer_label_from_name(cases[i].name);
        ck_assert_msg(label >= 0, "'%s' not mapped", cases[i].name);
        ck_assert_str_eq(fer_label_name(label), cases[i].label);
    }
}
END_TEST

START_TEST(test_from_name_unknown)
{
    static const char *const unknown[] = {"", "   ", "none", "happ", "happyy", "happy sad",
                                          "0", "7", "boredom", "neutral2"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        ck_assert_msg(fer_label_from_name(unknown[i]) == -1, "'%s' mapped", unknown[i]);
    ck_assert_int_eq(fer_label_from_name(NULL), -1);
}
END_TEST

static const char *code_name(int label)
{
    return label < 0 ? "(none)" : fer_label_name(label);
}

START_TEST(test_ckplus_codes)
{
    /* CK+ README: 0=neutral, 1=anger, 2=contempt, 3=disgust, 4=fear,
     * 5=happy, 6=sadness, 7=surprise */
    static const char *const want[] = {"neutral", "anger",     "contempt", "disgust",
                                       "fear",    "happiness", "sadness",  "surprise"};
    for (int code = 0; code <= 7; code++)
        ck_assert_str_eq(code_name(fer_label_from_ckplus(code)), want[code]);
    ck_assert_int_eq(fer_label_from_ckplus(-1), -1);
    ck_assert_int_eq(fer_label_from_ckplus(8), -1);
}
END_TEST

START_TEST(test_rafdb_codes)
{
    /* RAF-DB README: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
     * 6 Anger, 7 Neutral */
    static const char *const want[] = {"surprise", "fear",  "disgust", "happiness",
                                       "sadness",  "anger", "neutral"};
    for (int code = 1; code <= 7; code++)
        ck_assert_str_eq(code_name(fer_label_from_rafdb(code)), want[code - 1]);
    ck_assert_int_eq(fer_label_from_rafdb(0), -1);
    ck_assert_int_eq(fer_label_from_rafdb(8), -1);
}
END_TEST

START_TEST(test_fer2013_codes)
{
    /* Kaggle: 0=Angry, 1=Disgust, 2=Fear, 3=Happy, 4=Sad, 5=Surprise, 6=Neutral */
    static const char *const want[] = {"anger",   "disgust",  "fear",   "happiness",
                                       "sadness", "surprise", "neutral"};
    for (int code = 0; code <= 6; code++)
        ck_assert_str_eq(code_name(fer_label_from_fer2013(code)), want[code]);
    ck_assert_int_eq(fer_label_from_fer2013(-1), -1);
    ck_assert_int_eq(fer_label_from_fer2013(7), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("labels");
    TCase *tc = tcase_create("fer_label_name");
    tcase_add_test(tc, test_names_in_ckplus_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("fer_label_from_name");
    tcase_add_test(tc, test_from_name_round_trips);
    tcase_add_test(tc, test_from_name_synonyms);
    tcase_add_test(tc, test_from_name_unknown);
    suite_add_tcase(s, tc);
    tc = tcase_create("dataset codes");
    tcase_add_test(tc, test_ckplus_codes);
    tcase_add_test(tc, test_rafdb_codes);
    tcase_add_test(tc, test_fer2013_codes);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
