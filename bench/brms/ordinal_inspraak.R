# ordinal_inspraak in brms: the model of models/youth_partnership/ordinal_inspraak.toml.
#   bf(value ~ group_gender + (1|cell) + age_z:rater + (1|respondent) + (1|item),
#      disc ~ 0 + rater), cumulative("logit"); thresholds are brms's intercepts.
# 0/1 columns as in metric_inspraak.R: gg* for the group_gender levels but the first (its
# location is absorbed by the thresholds), age_* (age_z by rater), disc_* for the raters
# other than the reference one (whose log discrimination brms fixes at 0, as triad does).
# center = FALSE: brms would otherwise put the threshold prior on the thresholds of
# centred predictors, a different prior from the spec's.
source(file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))),
                 "common.R"))
gg <- cols("gg")
age <- cols("age_")
disc <- cols("disc_")
formula <- bf(as.formula(paste("value ~ 1 +", paste(c(gg, age), collapse = " + "),
                               "+ (1 | cell) + (1 | respondent) + (1 | item)")),
              as.formula(paste("disc ~ 0 +", paste(disc, collapse = " + "))),
              center = FALSE)  # priors on the thresholds themselves, not on centred ones
mu <- c(-2.0, -0.67, 0.67, 2.0)
prior <- c(set_prior("normal(0, 2.0)", class = "b"),
           do.call(c, lapply(age, function(a) set_prior("normal(0, 0.5)", class = "b",
                                                         coef = a))),
           do.call(c, lapply(1:4, function(k) set_prior(sprintf("normal(%g, 1.5)", mu[k]),
                                                        class = "Intercept", coef = k))),
           set_prior("gamma(2.0, 2.0)", class = "sd", group = "cell"),
           set_prior("normal(0, 2.0)", class = "sd", group = "respondent"),
           set_prior("normal(0, 0.5)", class = "sd", group = "item"),
           set_prior("normal(0, 0.7)", class = "b", dpar = "disc"))
fit_brms(formula, cumulative("logit"), prior)
