Feature: Signing in with my company's identity provider
  As a marketing analyst at a company with single sign-on
  I want to sign in to the dashboard and call the API with my company's identity provider
  So that I need no other password, and only the people my administrator named get in

  Background:
    Given the service signs in with the company's identity provider
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions |
      | cola    | performance   | summer sale | tv      | 2021-01-04 | 420         |
    And "ana" of "acme" signs in with the subject "00u-ana"

  Scenario: The provider signs me in to the dashboard
    When I sign in to the dashboard through the provider as "00u-ana"
    Then I am signed in to the dashboard as "ana"
    And the dashboard's session reads the measurements of "acme"

  Scenario: A subject that no user holds gets no session, and a page that says why
    When I sign in to the dashboard through the provider as "00u-somebody"
    Then I see a page saying "no user of Marketing OP has that subject"
    And I am not signed in to the dashboard

  Scenario: An organisation claim naming another organisation is refused
    Given the organisation claim is "organization"
    And the provider says that "00u-ana" belongs to "globex"
    When I sign in to the dashboard through the provider as "00u-ana"
    Then I see a page saying "names another organisation"
    And I am not signed in to the dashboard

  Scenario: With password sign-in switched off, only the provider signs me in
    Given password sign-in is switched off
    When I sign in to the dashboard with a username and password
    Then I see a page saying "Password sign-in is switched off"
    And I am not signed in to the dashboard

  Scenario: The provider's access token opens the API
    When I ask for the measurements with an access token of the provider for "00u-ana"
    Then the answer has status 200

  Scenario Outline: A provider token that breaks a rule is refused
    When I ask for the measurements with a provider token for "00u-ana" that <breaks>
    Then I am refused as not signed in

    Examples:
      | breaks                        |
      | has expired                   |
      | is for another audience       |
      | comes from another issuer     |
      | is signed by an unknown key   |
      | is not signed                 |
