"""lunadyn.thermal: heat -- radiogenic heating, mantle, core, basal layer and the thermal ODE kernel."""
