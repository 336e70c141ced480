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

/* Canonical name of label i (0..7), or NULL. The string is static. */
const char *fer_label_name(int label);

/* Map a class name to a label, ignoring case and surrounding blanks, with
 * the common synonyms and spellings of dataset folders:
 *   neutral: neutral, neutrality, calm
 *   anger: anger, angry, mad, furious, rage
 *   contempt: contempt, contemptuous
 *   disgust: disgust, disgusted, disgusting
 *   fear: fear, fearful, afraid, scared, frightened
 *   happiness: happiness, happy, joy, joyful, smile, smiling
 *   sadness: sadness, sad, sorrow, unhappy
 *   surprise: surprise, surprised, astonished, amazed
 * and the two-letter codes of JAFFE and KDEF file names (NE AN DI FE AF HA
 * SA SU). "none" is not neutral (AffectNet's None means "no decision").
 * Returns 0..7, or -1 for NULL or a name it does not know. */
int fer_label_from_name(const char *name);

/* Dataset codes. Each returns 0..7, or -1 for a code outside the dataset's
 * range. */
int fer_label_from_ckplus(int code);  /* Emotion, *_emotion.txt: 0..7 */
int fer_label_from_rafdb(int code);   /* list_patition_label.txt: 1..7 */
int fer_label_from_fer2013(int code); /* fer2013.csv emotion: 0..6 */

#endif
