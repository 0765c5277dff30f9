// ordinal_inspraak by hand: the same model as models/ordinal_inspraak.toml (triad.ordinal_model).
// Cumulative logit with a discrimination per rater (disc = "rater"),
// P(Y <= k) = logistic(disc_r * (threshold_k - eta)), disc_r = exp(log_disc_r), the reference
// rater's (disc_ref) fixed at 1, log_disc of the others ~ Normal(0, 0.7); with
// eta = group_gender + (1|cell) + age_z:rater + (1|respondent) + (1|item); as the spec's
// noncentered = ["1|respondent"], respondent effects non-centred, cell and item effects
// centred; ordered cut points with the spec's Normal prior.  As in
// Bambi's cumulative family, the first group_gender level (sorted) is the reference (its
// location is absorbed by the thresholds): G - 1 coefficients.
data {
  int<lower=1> N;
  int<lower=2> K;                       // categories
  int<lower=1> G;
  int<lower=1> C;
  int<lower=1> R;
  int<lower=1> P;                       // respondents
  int<lower=1> I;                       // items
  array[N] int<lower=1, upper=G> gg;
  array[N] int<lower=1, upper=C> cell_idx;
  array[N] int<lower=1, upper=R> rater_idx;
  array[N] int<lower=1, upper=P> resp_idx;
  array[N] int<lower=1, upper=I> item_idx;
  vector[N] age_z;
  array[N] int<lower=1, upper=K> y;
  vector[K - 1] threshold_mu;
  int<lower=1, upper=R> disc_ref;       // the rater whose discrimination is 1
}
parameters {
  ordered[K - 1] threshold;
  vector[G - 1] group_gender;
  vector[R] age_rater;
  real<lower=0> cell_sigma;
  vector[C] cell;
  real<lower=0> resp_sigma;
  vector[P] resp_offset;
  real<lower=0> item_sigma;
  vector[I] item;
  vector[R - 1] log_disc;
}
transformed parameters {
  vector[P] resp = resp_offset * resp_sigma;
  vector[R - 1] disc = exp(log_disc);
}
model {
  vector[G] gg_effect = append_row(0, group_gender);
  threshold ~ normal(threshold_mu, 1.5);
  group_gender ~ normal(0, 2.0);
  age_rater ~ normal(0, 0.5);
  cell_sigma ~ gamma(2.0, 2.0);
  cell ~ normal(0, cell_sigma);
  resp_sigma ~ normal(0, 2.0);          // HalfNormal(2) via the lower bound
  resp_offset ~ std_normal();
  item_sigma ~ normal(0, 0.5);          // HalfNormal(0.5)
  item ~ normal(0, item_sigma);
  log_disc ~ normal(0, 0.7);
  {
    // disc * (threshold - eta): ordered_logistic with scaled location and cut points
    vector[R] disc_full;
    array[R] vector[K - 1] cuts;
    int j = 1;
    for (r in 1:R) {
      if (r == disc_ref) {
        disc_full[r] = 1;
      } else {
        disc_full[r] = disc[j];
        j += 1;
      }
      cuts[r] = disc_full[r] * threshold;
    }
    vector[N] eta = gg_effect[gg] + cell[cell_idx] + age_rater[rater_idx] .* age_z
                    + resp[resp_idx] + item[item_idx];
    y ~ ordered_logistic(disc_full[rater_idx] .* eta, cuts[rater_idx]);
  }
}
