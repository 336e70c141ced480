/* nn_fan.c - frame attention aggregation (nn_fan.h). Sums in double: T
 * and F are small, and the attention-weighted means divide by sums that
 * can be small when every alpha is. */
#include "nn_fan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fer_fan_init(struct fer_fan *fan, int features)
{
    memset(fan, 0, sizeof *fan);
    fan->features = features;
    if (fer_linear_init(&fan->alpha, features, 1, 1) < 0 ||
        fer_linear_init(&fan->beta, 2 * features, 1, 1) < 0) {
        fer_fan_free(fan);
        return -1;
    }
    return 0;
}

void fer_fan_free(struct fer_fan *fan)
{
    fer_linear_free(&fan->alpha);
    fer_linear_free(&fan->beta);
}

void fer_fan_zero_grad(struct fer_fan *fan)
{
    fer_linear_zero_grad(&fan->alpha);
    fer_linear_zero_grad(&fan->beta);
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static int check(const struct fer_fan *fan, const struct fer_tensor *f, int frames,
                 const struct fer_tensor *out, const char *what)
{
    if (frames < 1 || f == NULL || f->ndim != 2 || f->shape[1] != fan->features ||
        f->shape[0] % frames != 0 || !fer_tensor_is_contiguous(f))
        return fer_fail("fan: input is not (N*%d) x %d features", frames, fan->features);
    int n = f->shape[0] / frames;
    if (out == NULL || out->ndim != 2 || out->shape[0] != n || out->shape[1] != 2 * fan->features ||
        !fer_tensor_is_contiguous(out))
        return fer_fail("fan: %s is not %d x %d", what, n, 2 * fan->features);
    return 0;
}

/* One example: alpha, beta (T each), the clip feature fp (F) and the
 * output (2F, may be NULL). */
static void example_forward(const struct fer_fan *fan, const float *f, int T, double *alpha,
                            double *beta, double *fp, double *out)
{
    const int F = fan->features;
    const float *wa = fan->alpha.weight.data, *wb = fan->beta.weight.data;
    double asum = 0;
    for (int t = 0; t < T; t++) {
        double s = fan->alpha.bias.data[0];
        for (int k = 0; k < F; k++)
            s += (double)wa[k] * f[(size_t)t * F + k];
        alpha[t] = sigmoid(s);
        asum += alpha[t];
    }
    for (int k = 0; k < F; k++) {
        double s = 0;
        for (int t = 0; t < T; t++)
            s += alpha[t] * f[(size_t)t * F + k];
        fp[k] = s / asum;
    }
    double fpw = fan->beta.bias.data[0];
    for (int k = 0; k < F; k++)
        fpw += (double)wb[F + k] * fp[k];
    double gsum = 0;
    for (int t = 0; t < T; t++) {
        double s = fpw;
        for (int k = 0; k < F; k++)
            s += (double)wb[k] * f[(size_t)t * F + k];
        beta[t] = sigmoid(s);
        gsum += alpha[t] * beta[t];
    }
    if (out == NULL)
        return;
    for (int k = 0; k < F; k++) {
        double s = 0;
        for (int t = 0; t < T; t++)
            s += alpha[t] * beta[t] * f[(size_t)t * F + k];
        out[k] = s / gsum;
        out[F + k] = fp[k]; /* sum_t g_t f' / sum_t g_t */
    }
}

int fer_fan_forward(const struct fer_fan *fan, const struct fer_tensor *f, int frames,
                    struct fer_tensor *out)
{
    if (check(fan, f, frames, out, "output") < 0)
        return -1;
    const int F = fan->features, T = frames, N = f->shape[0] / frames;
    double *buf = malloc(((size_t)2 * T + 3 * (size_t)F) * sizeof *buf);
    if (buf == NULL)
        return fer_fail("out of memory");
    double *alpha = buf, *beta = alpha + T, *fp = beta + T, *o = fp + F;
    for (int n = 0; n < N; n++) {
        example_forward(fan, f->data + (size_t)n * T * F, T, alpha, beta, fp, o);
        for (int k = 0; k < 2 * F; k++)
            out->data[(size_t)n * 2 * F + k] = (float)o[k];
    }
    free(buf);
    return 0;
}

int fer_fan_backward(struct fer_fan *fan, const struct fer_tensor *f, int frames,
                     const struct fer_tensor *dout, struct fer_tensor *df)
{
    if (check(fan, f, frames, dout, "output gradient") < 0)
        return -1;
    if (df != NULL && fer_nn_check_same("fan", "input gradient", df, f) < 0)
        return -1;
    const int F = fan->features, T = frames, N = f->shape[0] / frames;
    double *buf = malloc(((size_t)4 * T + 4 * (size_t)F) * sizeof *buf);
    if (buf == NULL)
        return fer_fail("out of memory");
    double *alpha = buf, *beta = alpha + T, *dalpha = beta + T, *dt = dalpha + T;
    double *fp = dt + T, *o = fp + F, *dfp = o + 2 * F;
    const float *wa = fan->alpha.weight.data, *wb = fan->beta.weight.data;
    float *ga = fan->alpha.weight_grad.data, *gb = fan->beta.weight_grad.data;
    for (int n = 0; n < N; n++) {
        const float *fx = f->data + (size_t)n * T * F;
        const float *d = dout->data + (size_t)n * 2 * F;
        float *dfx = df != NULL ? df->data + (size_t)n * T * F : NULL;
        example_forward(fan, fx, T, alpha, beta, fp, o);
        double G = 0;
        for (int t = 0; t < T; t++)
            G += alpha[t] * beta[t];
        /* out = sum g_t [f_t; f'] / G with g_t = alpha_t beta_t. */
        for (int k = 0; k < F; k++)
            dfp[k] = d[F + k]; /* direct: sum_t g_t / G = 1 */
        double db = 0;
        for (int t = 0; t < T; t++) {
            double dg = 0; /* d out / d g_t . dout = ([f_t; f'] - out) . dout / G */
            for (int k = 0; k < F; k++)
                dg += ((double)fx[(size_t)t * F + k] - o[k]) * d[k] +
                      (fp[k] - o[F + k]) * d[F + k];
            dg /= G;
            dalpha[t] = dg * beta[t];
            dt[t] = dg * alpha[t] * beta[t] * (1 - beta[t]); /* through beta's sigmoid */
            db += dt[t];
        }
        fan->beta.bias_grad.data[0] += (float)db;
        for (int k = 0; k < F; k++) {
            double gw = 0, gwp = 0;
            for (int t = 0; t < T; t++) {
                gw += dt[t] * fx[(size_t)t * F + k];
                gwp += dt[t] * fp[k];
            }
            gb[k] += (float)gw;
            gb[F + k] += (float)gwp;
            dfp[k] += db * wb[F + k]; /* beta's input [f_t; f'] */
        }
        /* f' = sum alpha_t f_t / A. */
        double A = 0;
        for (int t = 0; t < T; t++)
            A += alpha[t];
        for (int t = 0; t < T; t++) {
            double s = 0;
            for (int k = 0; k < F; k++)
                s += ((double)fx[(size_t)t * F + k] - fp[k]) * dfp[k];
            dalpha[t] += s / A;
        }
        double dba = 0;
        for (int t = 0; t < T; t++) {
            double ds = dalpha[t] * alpha[t] * (1 - alpha[t]);
            dba += ds;
            for (int k = 0; k < F; k++) {
                double x = fx[(size_t)t * F + k];
                ga[k] += (float)(ds * x);
                if (dfx != NULL)
                    dfx[(size_t)t * F + k] =
                        (float)(alpha[t] * beta[t] / G * d[k] + dt[t] * wb[k] +
                                alpha[t] / A * dfp[k] + ds * wa[k]);
            }
        }
        fan->alpha.bias_grad.data[0] += (float)dba;
    }
    free(buf);
    return 0;
}
