// summary_cells by hand: the same model as triad.fitting._summary_model (centred, as the
// spec's noncentered = false). Each published cell's mean and SD enter with their exact
// normal-theory likelihood: mean ~ Normal(mu, sigma / sqrt(n)),
// s^2 ~ Gamma((n - 1) / 2, rate = (n - 1) / (2 sigma^2)).
data {
  int<lower=1> N;                       // cells
  int<lower=1> S;                       // scales
  int<lower=1> G;                       // scale x rater>target groups
  array[N] int<lower=1, upper=S> scale_idx;
  array[N] int<lower=1, upper=G> group_idx;
  vector<lower=1>[N] n;
  vector[N] cell_mean;
  vector<lower=0>[N] cell_sd;
}
transformed data {
  vector[N] cell_var = square(cell_sd);
}
parameters {
  vector[G] group_mean;
  vector<lower=0>[S] cell_sd_scale;
  vector[N] mu;
  vector<lower=0>[N] sigma;
}
model {
  group_mean ~ normal(3.5, 1.0);
  cell_sd_scale ~ gamma(2.0, 4.0);
  mu ~ normal(group_mean[group_idx], cell_sd_scale[scale_idx]);
  sigma ~ normal(0, 1.0);               // HalfNormal(1)
  cell_mean ~ normal(mu, sigma ./ sqrt(n));
  cell_var ~ gamma((n - 1) / 2, (n - 1) ./ (2 * square(sigma)));
}
