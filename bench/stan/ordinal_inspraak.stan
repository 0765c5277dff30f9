// ordinal_inspraak by hand: the same model as models/ordinal_inspraak.toml built by Bambi.
// Cumulative logit, P(Y <= k) = logistic(threshold_k - eta), with
// eta = group_gender + (1|cell) + age_z:rater + (1|respondent) + (1|item), all group effects
// non-centred (Bambi's default); ordered cut points with the spec's Normal prior.  As in
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
}
parameters {
  ordered[K - 1] threshold;
  vector[G - 1] group_gender;
  vector[R] age_rater;
  real<lower=0> cell_sigma;
  vector[C] cell_offset;
  real<lower=0> resp_sigma;
  vector[P] resp_offset;
  real<lower=0> item_sigma;
  vector[I] item_offset;
}
transformed parameters {
  vector[C] cell = cell_offset * cell_sigma;
  vector[P] resp = resp_offset * resp_sigma;
  vector[I] item = item_offset * item_sigma;
}
model {
  vector[G] gg_effect = append_row(0, group_gender);
  threshold ~ normal(threshold_mu, 1.5);
  group_gender ~ normal(0, 2.0);
  age_rater ~ normal(0, 0.5);
  cell_sigma ~ gamma(2.0, 2.0);
  cell_offset ~ std_normal();
  resp_sigma ~ normal(0, 2.0);          // HalfNormal(2) via the lower bound
  resp_offset ~ std_normal();
  item_sigma ~ normal(0, 0.5);          // HalfNormal(0.5)
  item_offset ~ std_normal();
  y ~ ordered_logistic(gg_effect[gg] + cell[cell_idx] + age_rater[rater_idx] .* age_z
                       + resp[resp_idx] + item[item_idx], threshold);
}
