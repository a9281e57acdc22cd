-- What the provider itself said a turn cost, in USD (OpenRouter's usage.cost), beside cost_usd, which Recondo
-- computes from its price tables; NULL when the provider reported none. And the Azure OpenAI deployment the
-- request named (a customer's name for a model, not a model: the model comes from the response). Both join
-- the turn's hash only when set, so turns stored before these columns keep their hash.
ALTER TABLE turns ADD COLUMN provider_reported_cost_usd REAL;
ALTER TABLE turns ADD COLUMN deployment TEXT;
