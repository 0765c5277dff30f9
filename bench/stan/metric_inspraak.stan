// metric_inspraak by hand: the same model as models/metric_inspraak.toml built by Bambi.
// score ~ 0 + group_gender + (1|cell) + age_z:rater ; sigma ~ 0 + rater (log link).
// Non-centred cell intercepts (Bambi's default), same priors incl. the Gamma(2, 4) hyperprior.
data {
  int<lower=1> N;
  int<lower=1> G;                       // group_gender levels
  int<lower=1> C;                       // cells
  int<lower=1> R;                       // raters
  array[N] int<lower=1, upper=G> gg;
  array[N] int<lower=1, upper=C> cell_idx;
  array[N] int<lower=1, upper=R> rater_idx;
  vector[N] age_z;
  vector[N] y;
}
parameters {
  vector[G] group_gender;
  vector[R] age_rater;
  real<lower=0> cell_sigma;
  vector[C] cell_offset;
  vector[R] sigma_rater;
}
transformed parameters {
  vector[C] cell = cell_offset * cell_sigma;
}
model {
  group_gender ~ normal(3.5, 1.0);
  age_rater ~ normal(0, 0.3);
  cell_sigma ~ gamma(2.0, 4.0);
  cell_offset ~ std_normal();
  sigma_rater ~ normal(-0.5, 0.7);
  y ~ normal(group_gender[gg] + cell[cell_idx] + age_rater[rater_idx] .* age_z,
             exp(sigma_rater[rater_idx]));
}
