// summary_cells by hand: the same model as triad.model_build.summary_model (the spec's
// noncentered = true).  Each printed cell's mean and SD enter with their exact
// normal-theory likelihood: mean ~ Normal(mu, sigma / sqrt(n)),
// s^2 ~ Gamma((n - 1) / 2, rate = (n - 1) / (2 sigma^2)).  Sector cells are pooled within
// their scale x rater>target group (non-centred, one spread per scale); gender cells get a
// mean each (the group-mean prior).  Paired cells (same people) share a latent standard
// normal pair_z: mean = mu + loading * se * pair_z + e, sd(e) = se * resid
// (loading = sign * sqrt(share), resid = sqrt(1 - share); 0 and 1 for unpaired cells).
data {
  int<lower=1> N;                       // cells
  int<lower=1> S;                       // scales (of the sector cells)
  int<lower=1> G;                       // scale x rater>target groups
  int<lower=1> NS;                      // sector cells
  int<lower=0> NG;                      // gender cells
  int<lower=0> P;                       // pairs
  array[NS] int<lower=1, upper=N> sector_rows;
  array[NG] int<lower=1, upper=N> gender_rows;
  array[NS] int<lower=1, upper=S> scale_idx;
  array[NS] int<lower=1, upper=G> group_idx;
  array[N] int<lower=1> pair_idx;       // 1 for unpaired cells (their loading is 0)
  vector[N] loading;
  vector<lower=0>[N] resid;
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
  vector[NS] cell_z;
  vector[NG] gender_mean;
  vector<lower=0>[N] sigma;
  vector[max(P, 1)] pair_z;
}
model {
  vector[N] mu;
  vector[N] se = sigma ./ sqrt(n);
  mu[sector_rows] = group_mean[group_idx] + cell_sd_scale[scale_idx] .* cell_z;
  if (NG > 0) mu[gender_rows] = gender_mean;
  group_mean ~ normal(3.5, 1.0);
  gender_mean ~ normal(3.5, 1.0);
  cell_sd_scale ~ gamma(2.0, 4.0);
  cell_z ~ std_normal();
  sigma ~ lognormal(-0.5, 0.7);
  pair_z ~ std_normal();
  cell_mean ~ normal(mu + loading .* se .* pair_z[pair_idx], se .* resid);
  cell_var ~ gamma((n - 1) / 2, (n - 1) ./ (2 * square(sigma)));
}
