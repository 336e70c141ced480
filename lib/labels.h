/* labels.h - the canonical expression vocabulary and the datasets' codes.
 *
 * Every tool speaks these eight names, in this order (the CK+ order):
 *   0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happiness,
 *   6 sadness, 7 surprise
 * Importers map each dataset's numeric codes and folder names onto them.
 */
#ifndef FER_LABELS_H
#define FER_LABELS_H

enum { FER_LABEL_COUNT = 8 };

/* Canonical name of label i (0..7), or NULL. */
const char *fer_label_name(int label);

/* Map a class name to a label, ignoring case, surrounding blanks, and
 * common synonyms and spellings: "happy", "Happiness", "joy" -> happiness;
 * "angry" -> anger; "sad" -> sadness; "surprised"/"surprise" -> surprise;
 * "disgusted" -> disgust; "fearful"/"afraid"/"scared" -> fear;
 * "calm"/"neutral" -> neutral; "contemptuous" -> contempt; and so on.
 * Returns 0..7, or -1 for a name it does not know. */
int fer_label_from_name(const char *name);

/* Dataset codes. Each returns 0..7, or -1 for a code outside the dataset's
 * range. */
int fer_label_from_ckplus(int code);  /* Emotion/*_emotion.txt: 0..7 */
int fer_label_from_rafdb(int code);   /* list_patition_label.txt: 1..7 */
int fer_label_from_fer2013(int code); /* fer2013.csv emotion: 0..6 */

#endif
