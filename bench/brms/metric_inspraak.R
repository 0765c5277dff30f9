# metric_inspraak in brms: the model of models/youth_partnership/metric_inspraak.toml.
#   score ~ 0 + group_gender + (1|cell) + age_z:rater ; sigma ~ 0 + rater (log link)
# The data (bench/benchlib.py: brms_data) carry the factors as 0/1 columns (gg*: one per
# group_gender level; age_*: age_z times the rater indicator; sig_*: rater indicators), so
# every coefficient gets the spec's prior by name.  (1|cell) is non-centred, as in Bambi.
source(file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))),
                 "common.R"))
gg <- cols("gg")
age <- cols("age_")
sig <- cols("sig_")
formula <- bf(as.formula(paste("score ~ 0 +", paste(c(gg, age), collapse = " + "),
                               "+ (1 | cell)")),
              as.formula(paste("sigma ~ 0 +", paste(sig, collapse = " + "))))
prior <- c(set_prior("normal(3.5, 1.0)", class = "b"),
           do.call(c, lapply(age, function(a) set_prior("normal(0, 0.3)", class = "b",
                                                         coef = a))),
           set_prior("gamma(2.0, 4.0)", class = "sd"),
           set_prior("normal(-0.5, 0.7)", class = "b", dpar = "sigma"))
fit_brms(formula, gaussian(), prior)
