#include "labels.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const names[FER_LABEL_COUNT] = {
    "neutral", "anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise",
};

enum { NEUTRAL, ANGER, CONTEMPT, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE };

/* Spellings met in public datasets' folder names and papers (ImageFolder
 * exports of FER2013 and RAF-DB, AFEW, AffectNet, JAFFE/KDEF codes). "none"
 * is deliberately absent: AffectNet's "None" means no expression could be
 * decided, which is not neutral. */
static const struct {
    const char *name;
    int label;
} synonyms[] = {
    {"neutral", NEUTRAL},     {"neutrality", NEUTRAL}, {"calm", NEUTRAL},
    {"ne", NEUTRAL},          {"anger", ANGER},        {"angry", ANGER},
    {"mad", ANGER},           {"furious", ANGER},      {"rage", ANGER},
    {"an", ANGER},            {"contempt", CONTEMPT},  {"contemptuous", CONTEMPT},
    {"disgust", DISGUST},     {"disgusted", DISGUST},  {"disgusting", DISGUST},
    {"di", DISGUST},          {"fear", FEAR},          {"fearful", FEAR},
    {"afraid", FEAR},         {"scared", FEAR},        {"frightened", FEAR},
    {"fe", FEAR},             {"af", FEAR},            {"happiness", HAPPINESS},
    {"happy", HAPPINESS},     {"joy", HAPPINESS},      {"joyful", HAPPINESS},
    {"smile", HAPPINESS},     {"smiling", HAPPINESS},  {"ha", HAPPINESS},
    {"sadness", SADNESS},     {"sad", SADNESS},        {"sorrow", SADNESS},
    {"unhappy", SADNESS},     {"sa", SADNESS},         {"surprise", SURPRISE},
    {"surprised", SURPRISE},  {"astonished", SURPRISE}, {"amazed", SURPRISE},
    {"su", SURPRISE},
};

const char *fer_label_name(int label)
{
    if (label < 0 || label >= FER_LABEL_COUNT)
        return NULL;
    return names[label];
}

int fer_label_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    while (isspace((unsigned char)*name))
        name++;
    size_t n = strlen(name);
    while (n > 0 && isspace((unsigned char)name[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
        const char *s = synonyms[i].name;
        if (strlen(s) == n && strncasecmp(s, name, n) == 0)
            return synonyms[i].label;
    }
    return -1;
}

int fer_label_from_ckplus(int code)
{
    /* The canonical order is CK+'s own. */
    return code >= 0 && code < FER_LABEL_COUNT ? code : -1;
}

int fer_label_from_rafdb(int code)
{
    /* RAF-DB README: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
     * 6 Anger, 7 Neutral. */
    static const int map[] = {SURPRISE, FEAR, DISGUST, HAPPINESS, SADNESS, ANGER, NEUTRAL};
    return code >= 1 && code <= 7 ? map[code - 1] : -1;
}

int fer_label_from_fer2013(int code)
{
    /* Kaggle's fer2013.csv: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad,
     * 5 Surprise, 6 Neutral. */
    static const int map[] = {ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, NEUTRAL};
    return code >= 0 && code <= 6 ? map[code] : -1;
}
